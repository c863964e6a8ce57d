//! `cargo xtask apple`: builds `MatrixMobileCoreFFI.xcframework` for iOS,
//! the iOS simulator and macOS, and places it where the root `Package.swift`
//! looks for it in local mode (`swift/Frameworks/`); `release_zip` zips it
//! for a release.
//!
//! Steps: a release static library per Rust target; `lipo -create` to merge
//! the two simulator and the two macOS architectures; the Swift bindings,
//! generated from the host's macOS static library built in the first step
//! (uniffi-bindgen's library mode reads a static archive as it reads a
//! dylib; no other build of the core is needed), and a Headers directory
//! (C header + `module.modulemap`); then
//! `xcodebuild -create-xcframework -library L -headers H ... -output X`.
//! Every tool and SDK is checked first, so a machine without Xcode (or with
//! the Command Line Tools alone, which have no iOS SDK) fails at once, naming
//! what is missing.

use crate::ctx::{self, Ctx};
use crate::swift::generated::{self, FFI_MODULE};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Rust targets built, one static library each.
const TARGETS: &[&str] = &[
    "aarch64-apple-ios",
    "aarch64-apple-ios-sim",
    "x86_64-apple-ios",
    "aarch64-apple-darwin",
    "x86_64-apple-darwin",
];

/// Platforms of the XCFramework, each with the targets `lipo` merges into it.
const PLATFORMS: &[(&str, &[&str])] = &[
    ("ios", &["aarch64-apple-ios"]),
    (
        "ios-simulator",
        &["aarch64-apple-ios-sim", "x86_64-apple-ios"],
    ),
    ("macos", &["aarch64-apple-darwin", "x86_64-apple-darwin"]),
];

const STATICLIB: &str = "libmatrix_mobile_core.a";

/// Builds `target/apple/MatrixMobileCoreFFI.xcframework` and copies it to
/// `swift/Frameworks/`, the root package's local binary target.
///
/// Fails before building anything when not on macOS, or when `xcodebuild`,
/// `lipo` or one of the rustup targets is missing.
pub fn run(ctx: &Ctx) -> Result<()> {
    check_prerequisites()?;
    let apple = ctx.target_dir().join("apple");
    fs::create_dir_all(&apple)?;

    // The crate's manifest lists no staticlib (it would be archived on every
    // debug build), so it is asked for here, one target at a time. The
    // deployment targets match `platforms` in the root Package.swift.
    for target in TARGETS {
        let mut build = Command::new(ctx::cargo());
        build
            .current_dir(&ctx.root)
            .env("IPHONEOS_DEPLOYMENT_TARGET", "15.0")
            .env("MACOSX_DEPLOYMENT_TARGET", "12.0")
            .args(["rustc", "--release", "-p", "matrix-mobile-core", "--lib"])
            .args(["--crate-type", "staticlib", "--target", target]);
        ctx::run(&mut build)?;
    }

    let mut libraries = Vec::new();
    for (platform, targets) in PLATFORMS {
        let dir = apple.join(platform);
        fs::create_dir_all(&dir)?;
        let merged = dir.join(STATICLIB);
        let mut lipo = Command::new("lipo");
        lipo.arg("-create");
        for target in *targets {
            lipo.arg(release_dir(ctx, target).join(STATICLIB));
        }
        ctx::run(lipo.arg("-output").arg(&merged))?;
        libraries.push(merged);
    }

    let headers = write_headers(ctx, &apple)?;
    let xcframework = apple.join(format!("{FFI_MODULE}.xcframework"));
    remove_dir_if_present(&xcframework)?;
    let mut create = Command::new("xcodebuild");
    create.arg("-create-xcframework");
    for library in &libraries {
        create
            .arg("-library")
            .arg(library)
            .arg("-headers")
            .arg(&headers);
    }
    ctx::run(create.arg("-output").arg(&xcframework))?;

    let in_package = ctx
        .root
        .join("swift")
        .join("Frameworks")
        .join(format!("{FFI_MODULE}.xcframework"));
    remove_dir_if_present(&in_package)?;
    copy_dir(&xcframework, &in_package)?;
    eprintln!(
        "apple: {} (copied to {})",
        xcframework.display(),
        in_package.display()
    );
    Ok(())
}

/// Names every missing prerequisite at once, or returns Ok.
fn check_prerequisites() -> Result<()> {
    if std::env::consts::OS != "macos" {
        bail!(
            "`cargo xtask apple` needs macOS with Xcode (xcodebuild, lipo); this is {}",
            std::env::consts::OS
        );
    }
    let mut missing: Vec<String> = ["xcodebuild", "xcrun", "lipo", "rustup"]
        .iter()
        .filter(|tool| !ctx::have_tool(tool))
        .map(|tool| format!("the `{tool}` tool"))
        .collect();
    if ctx::have_tool("xcrun") {
        missing.extend(
            SDKS.iter()
                .filter(|sdk| !has_sdk(sdk))
                .map(|sdk| format!("the {sdk} SDK (`xcrun --sdk {sdk} --show-sdk-path` fails)")),
        );
    }
    if ctx::have_tool("rustup") {
        let out = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .context("running `rustup target list --installed`")?;
        let installed = String::from_utf8_lossy(&out.stdout);
        missing.extend(
            missing_targets(&installed)
                .into_iter()
                .map(|t| format!("rustup target {t}")),
        );
    }
    if !missing.is_empty() {
        bail!(
            "missing: {}\n(install Xcode, not only the Command Line Tools, for xcodebuild, lipo and the \
             iOS SDKs, and select it with `xcode-select`; `rustup target add {}`)",
            missing.join(", "),
            TARGETS.join(" ")
        );
    }
    Ok(())
}

/// The SDKs the targets link against: the device, the simulator, macOS.
const SDKS: [&str; 3] = ["iphoneos", "iphonesimulator", "macosx"];

/// Whether Xcode's `xcrun` finds `sdk`.
fn has_sdk(sdk: &str) -> bool {
    Command::new("xcrun")
        .args(["--sdk", sdk, "--show-sdk-path"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
}

/// The targets of [`TARGETS`] absent from `rustup target list --installed`.
fn missing_targets(installed: &str) -> Vec<&'static str> {
    TARGETS
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|line| line.trim() == *t))
        .collect()
}

fn release_dir(ctx: &Ctx, target: &str) -> PathBuf {
    ctx.target_dir().join(target).join("release")
}

/// Generates the bindings from the static library of the host's macOS
/// target (built by [`run`] with the others: the UniFFI metadata are
/// exported symbols of its objects), checks that the committed Swift
/// bindings are the same (so the XCFramework's header matches the Swift file
/// that apps compile), and returns a Headers directory holding the C header
/// and `module.modulemap` in a folder named after the module, so that another
/// XCFramework's module map can never collide with it.
fn write_headers(ctx: &Ctx, apple: &Path) -> Result<PathBuf> {
    let host = if cfg!(target_arch = "aarch64") {
        "aarch64-apple-darwin"
    } else {
        "x86_64-apple-darwin"
    };
    let staticlib = release_dir(ctx, host).join(STATICLIB);
    let files = generated::generate(ctx, &staticlib)?;
    generated::check(&ctx.root, &files)?;

    let header = generated::header(&files)?;
    let header_name = header
        .path
        .file_name()
        .context("header without a name")?
        .to_string_lossy()
        .into_owned();
    let headers = apple.join("Headers");
    remove_dir_if_present(&headers)?;
    let module_dir = headers.join(FFI_MODULE);
    fs::create_dir_all(&module_dir)?;
    fs::write(module_dir.join(&header_name), &header.contents)?;
    fs::write(
        module_dir.join("module.modulemap"),
        apple_module_map(&header_name),
    )?;
    Ok(headers)
}

/// The XCFramework's module map; the static library itself is linked by the
/// XCFramework, so unlike on Linux there is no `link` line.
fn apple_module_map(header: &str) -> String {
    format!("module {FFI_MODULE} {{\n    header \"{header}\"\n    export *\n}}\n")
}

fn remove_dir_if_present(dir: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

/// Why the XCFramework cannot be built here, or `None` when it can.
pub fn missing_tools() -> Option<String> {
    check_prerequisites().err().map(|e| format!("{e:#}"))
}

/// The release asset's name; `.github/workflows/release.yml` and the pin of
/// the root `Package.swift` (`swift::pin`) use the same.
const ZIP_NAME: &str = crate::swift::pin::ASSET;

/// Builds the XCFramework (release profile) and writes into `out` the zip
/// that the root `Package.swift` downloads, `MatrixMobileCoreFFI.xcframework.zip`,
/// and its SwiftPM checksum, `MatrixMobileCoreFFI.xcframework.zip.checksum`
/// (the hex line `swift package compute-checksum` prints).
///
/// The zip holds `MatrixMobileCoreFFI.xcframework/` at its top level, as
/// SwiftPM expects of a binary target archive; `ditto` keeps the symlinks and
/// permissions of the bundle.
pub fn release_zip(ctx: &Ctx, out: &Path) -> Result<()> {
    run(ctx)?;
    fs::create_dir_all(out)?;
    let xcframework = ctx
        .target_dir()
        .join("apple")
        .join(format!("{FFI_MODULE}.xcframework"));
    let zip = out.join(ZIP_NAME);
    if zip.exists() {
        fs::remove_file(&zip)?;
    }
    ctx::run(
        Command::new("ditto")
            .args(["-c", "-k", "--sequesterRsrc", "--keepParent"])
            .arg(&xcframework)
            .arg(&zip),
    )?;

    // `compute-checksum` is a package subcommand: run it from the root package.
    let output = Command::new("swift")
        .current_dir(&ctx.root)
        .args(["package", "compute-checksum"])
        .arg(&zip)
        .output()
        .context("running `swift package compute-checksum`")?;
    if !output.status.success() {
        bail!(
            "`swift package compute-checksum {}` failed: {}",
            zip.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let checksum = parse_checksum(&String::from_utf8_lossy(&output.stdout))?;
    fs::write(
        out.join(format!("{ZIP_NAME}.checksum")),
        format!("{checksum}\n"),
    )?;
    println!("apple: {} (checksum {checksum})", zip.display());
    Ok(())
}

/// The SHA-256 hex digest `swift package compute-checksum` printed.
fn parse_checksum(stdout: &str) -> Result<String> {
    let line = stdout.trim();
    if line.len() == 64 && line.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(line.to_ascii_lowercase())
    } else {
        bail!("`swift package compute-checksum` printed {line:?}, not a SHA-256 hex digest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_targets_are_named() {
        let installed = "aarch64-apple-ios\nx86_64-unknown-linux-gnu\naarch64-apple-darwin\n";
        assert_eq!(
            missing_targets(installed),
            [
                "aarch64-apple-ios-sim",
                "x86_64-apple-ios",
                "x86_64-apple-darwin"
            ]
        );
        assert!(missing_targets(&TARGETS.join("\n")).is_empty());
    }

    #[test]
    fn only_a_sha256_hex_line_is_a_checksum() {
        let hex = "a".repeat(64);
        assert_eq!(parse_checksum(&format!("{hex}\n")).ok(), Some(hex));
        assert!(parse_checksum("error: no such file\n").is_err());
        assert!(parse_checksum(&"g".repeat(64)).is_err());
    }

    #[test]
    fn every_target_lands_in_one_platform() {
        let mut merged: Vec<&str> = PLATFORMS
            .iter()
            .flat_map(|(_, t)| t.iter().copied())
            .collect();
        merged.sort_unstable();
        let mut all = TARGETS.to_vec();
        all.sort_unstable();
        assert_eq!(merged, all);
    }
}
