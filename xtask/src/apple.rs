//! `cargo xtask apple`: builds `MatrixMobileCoreFFI.xcframework` for iOS,
//! the iOS simulator and macOS, and places it where `swift/Package.swift`
//! looks for it.
//!
//! Steps: a release static library per Rust target; `lipo -create` to merge
//! the two simulator and the two macOS architectures; the Swift bindings and
//! a Headers directory (C header + `module.modulemap`); then
//! `xcodebuild -create-xcframework -library L -headers H ... -output X`.
//! Every tool is checked first, so a machine without Xcode fails at once,
//! naming what is missing.

use crate::ctx::{self, Ctx};
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

const FFI_MODULE: &str = "MatrixMobileCoreFFI";
const STATICLIB: &str = "libmatrix_mobile_core.a";

/// Builds `target/apple/MatrixMobileCoreFFI.xcframework` and copies it to
/// `swift/Frameworks/`, the package's binary target.
///
/// Fails before building anything when not on macOS, or when `xcodebuild`,
/// `lipo` or one of the rustup targets is missing.
pub fn run(ctx: &Ctx) -> Result<()> {
    check_prerequisites()?;
    let apple = ctx.target_dir().join("apple");
    fs::create_dir_all(&apple)?;

    // One cargo run for every target, so they share the job pool. The
    // deployment targets match `platforms` in swift/Package.swift.
    let mut build = Command::new(ctx::cargo());
    build
        .current_dir(&ctx.root)
        .env("IPHONEOS_DEPLOYMENT_TARGET", "15.0")
        .env("MACOSX_DEPLOYMENT_TARGET", "12.0")
        .args(["build", "--release", "-p", "matrix-mobile-core", "--lib"]);
    for target in TARGETS {
        build.args(["--target", target]);
    }
    ctx::run(&mut build)?;

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
    let mut missing: Vec<String> = ["xcodebuild", "lipo", "rustup"]
        .iter()
        .filter(|tool| !ctx::have_tool(tool))
        .map(|tool| format!("the `{tool}` tool"))
        .collect();
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
            "missing: {}\n(install Xcode for xcodebuild and lipo; `rustup target add {}`)",
            missing.join(", "),
            TARGETS.join(" ")
        );
    }
    Ok(())
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

/// Generates the Swift bindings from the macOS build of the core, copies the
/// Swift file into the package, and returns a Headers directory holding the C
/// header and `module.modulemap` in a folder named after the module, so that
/// another XCFramework's module map can never collide with it.
fn write_headers(ctx: &Ctx, apple: &Path) -> Result<PathBuf> {
    let host = if cfg!(target_arch = "aarch64") {
        "aarch64-apple-darwin"
    } else {
        "x86_64-apple-darwin"
    };
    let dylib = release_dir(ctx, host).join("libmatrix_mobile_core.dylib");
    let out = apple.join("bindings");
    remove_dir_if_present(&out)?;
    fs::create_dir_all(&out)?;
    crate::bindings::generate(ctx, "swift", &out, &dylib)?;

    let header = crate::swift::find_one(&out, "h")?;
    let header_name = header
        .file_name()
        .context("header without a name")?
        .to_string_lossy()
        .into_owned();
    let headers = apple.join("Headers");
    remove_dir_if_present(&headers)?;
    let module_dir = headers.join(FFI_MODULE);
    fs::create_dir_all(&module_dir)?;
    fs::copy(&header, module_dir.join(&header_name))?;
    fs::write(
        module_dir.join("module.modulemap"),
        apple_module_map(&header_name),
    )?;

    let swift_file = crate::swift::find_one(&out, "swift")?;
    let generated = ctx.root.join("swift/Sources/MatrixMobileCore/Generated");
    fs::create_dir_all(&generated)?;
    fs::copy(
        &swift_file,
        generated.join(swift_file.file_name().context("no file name")?),
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

/// Why the XCFramework cannot be built here, or `None` when it can.
pub fn missing_tools() -> Option<String> {
    check_prerequisites().err().map(|e| format!("{e:#}"))
}

/// Builds the XCFramework zip and its SwiftPM checksum into `out`.
pub fn release_zip(_ctx: &Ctx, _out: &Path) -> Result<()> {
    bail!("the XCFramework release zip is not built yet")
}
