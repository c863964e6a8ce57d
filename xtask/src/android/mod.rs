//! `cargo xtask android`: the Android library (AAR) in `kotlin/build/outputs/aar/`.
//!
//! Steps: check out rustls-platform-verifier's Kotlin half at the commit
//! `Cargo.lock` pins ([`verifier`]), cross-compile the core for each ABI with cargo-ndk into
//! `kotlin/src/main/jniLibs/<abi>/`, generate the Kotlin bindings from the
//! host build into `kotlin/generated/`, then run Gradle's `assembleRelease`
//! (or, for `release-local`, `maven-publish` into its staging directory:
//! [`publish`]).
//!
//! Every ABI is linked with `-z max-page-size=16384` (through
//! `CARGO_TARGET_<triple>_RUSTFLAGS`), so that its LOAD segments are 16 KB
//! aligned as Android 15's 16 KB pages need; `scripts/check-elf-alignment.sh`
//! checks the result in CI.
//!
//! Needs the Android NDK (`ANDROID_NDK_HOME` or `ANDROID_NDK_ROOT`), cargo-ndk,
//! the four rustup targets, a JDK 17 and Gradle (`kotlin/gradlew` or `gradle`
//! on PATH, with the Android SDK found through `ANDROID_HOME` or
//! `kotlin/local.properties`). Each missing piece fails before any build starts.
//!
//! `MMC_ANDROID_ABIS` (comma-separated Android ABI names) narrows the ABIs,
//! e.g. `x86_64` for an emulator run in CI.
//!
//! aws-lc-sys (rustls' crypto under matrix-sdk) is a C build. Its cc builder
//! compiles it with the NDK clang that cargo-ndk exports as `CC_<target>` /
//! `AR_<target>`, so no CMake toolchain is needed; `AWS_LC_SYS_CMAKE_BUILDER=0`
//! pins that builder. To use CMake instead, set `AWS_LC_SYS_CMAKE_BUILDER=1`
//! and `CMAKE_TOOLCHAIN_FILE_<target>` to the NDK's
//! `build/cmake/android.toolchain.cmake` yourself.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ctx::{self, Ctx};

mod verifier;

/// The minimum Android API level, the same as `minSdk` in kotlin/build.gradle.kts.
const MIN_SDK: &str = "24";

/// Android ABI name and its Rust target.
const ABIS: [(&str, &str); 4] = [
    ("arm64-v8a", "aarch64-linux-android"),
    ("armeabi-v7a", "armv7-linux-androideabi"),
    ("x86_64", "x86_64-linux-android"),
    ("x86", "i686-linux-android"),
];

/// Linker flag for 16 KB pages: Google Play requires it of apps targeting
/// Android 15+, and NDK r27 still defaults to 4 KB. Passed for every ABI.
const PAGE_SIZE_LINK_ARG: &str = "-C link-arg=-Wl,-z,max-page-size=16384";

/// `cargo xtask android [--publish DIR]`.
#[derive(clap::Args)]
pub struct Args {
    /// Publish core-android into the Maven repository DIR, unsigned, instead
    /// of assembling the AAR.
    #[arg(long, value_name = "DIR")]
    publish: Option<PathBuf>,
}

/// `cargo xtask android`: the release AAR; with `--publish DIR`, `core-android`
/// published into the Maven repository DIR instead.
pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    if let Some(dir) = args.publish {
        return publish(ctx, "release", &dir);
    }
    let kotlin = build(ctx, "release")?;
    let mut assemble = gradle_command(&kotlin)?;
    assemble.current_dir(&kotlin).args([
        ":assembleRelease",
        "-Pmmc.skipCargo=true",
        "--stacktrace",
    ]);
    ctx::run(&mut assemble)?;
    let aar = kotlin.join("build/outputs/aar/matrix-mobile-core-release.aar");
    println!("android: {}", aar.display());
    Ok(())
}

/// Checks every tool, cross-compiles the core in cargo `profile` into
/// `kotlin/src/main/jniLibs/<abi>/` with 16 KB page alignment, and writes the
/// bindings into `kotlin/generated/`; returns `kotlin/`.
fn build(ctx: &Ctx, profile: &str) -> Result<PathBuf> {
    let abis = selected_abis(std::env::var("MMC_ANDROID_ABIS").ok().as_deref())?;
    let ndk = ndk_home()?;
    check_cargo_ndk()?;
    check_rust_targets(&abis)?;
    check_no_global_rustflags()?;
    let kotlin = ctx.root.join("kotlin");
    gradle_command(&kotlin)?;
    let pin = verifier::fetch(ctx)?;
    println!(
        "android: rustls-platform-verifier's Kotlin half {} from upstream {}",
        pin.version, pin.commit
    );

    let jni_libs = kotlin.join("src").join("main").join("jniLibs");
    if jni_libs.exists() {
        // No .so of an earlier build (another ABI set, another profile) may ship.
        std::fs::remove_dir_all(&jni_libs)
            .with_context(|| format!("removing {}", jni_libs.display()))?;
    }
    let mut ndk_build = Command::new(ctx::cargo());
    ndk_build
        .current_dir(&ctx.root)
        .env("ANDROID_NDK_HOME", &ndk)
        .env("ANDROID_NDK_ROOT", &ndk)
        .arg("ndk");
    for (abi, target) in &abis {
        ndk_build.args(["-t", abi]);
        let (var, flags) = page_size_rustflags(target);
        ndk_build.env(var, flags);
    }
    ndk_build
        .args(["--platform", MIN_SDK, "-o"])
        .arg(&jni_libs)
        // The cdylib alone (`cargo rustc --crate-type cdylib`), as the wheel
        // and the jar ship it: built beside the rlib, as `cargo build` does,
        // the library keeps about 4.6 MiB more (`cargo xtask size`).
        // cargo-ndk copies the artifacts whose crate types hold `cdylib`.
        .args([
            "rustc",
            "--profile",
            profile,
            "-p",
            "matrix-mobile-core",
            "--lib",
            "--crate-type",
            "cdylib",
        ]);
    if std::env::var_os("AWS_LC_SYS_CMAKE_BUILDER").is_none() {
        ndk_build.env("AWS_LC_SYS_CMAKE_BUILDER", "0");
    }
    ctx::run(&mut ndk_build)?;

    let host_cdylib = ctx.build_core_debug()?;
    let generated = kotlin.join("generated");
    if generated.exists() {
        std::fs::remove_dir_all(&generated)
            .with_context(|| format!("removing {}", generated.display()))?;
    }
    crate::bindings::generate(ctx, "kotlin", &generated, &host_cdylib)?;
    Ok(kotlin)
}

/// `CARGO_TARGET_<TRIPLE>_RUSTFLAGS` for `target` with the 16 KB page flag
/// added to whatever the environment already sets there.
fn page_size_rustflags(target: &str) -> (String, String) {
    let var = format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        target.to_uppercase().replace('-', "_")
    );
    let flags = match std::env::var(&var) {
        Ok(existing) if !existing.trim().is_empty() => format!("{existing} {PAGE_SIZE_LINK_ARG}"),
        _ => PAGE_SIZE_LINK_ARG.to_owned(),
    };
    (var, flags)
}

/// Cargo ignores the per-target flags above when `RUSTFLAGS` (or its encoded
/// form) is set, which would silently drop the 16 KB alignment.
fn check_no_global_rustflags() -> Result<()> {
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"] {
        if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
            bail!("{var} is set: cargo would then ignore CARGO_TARGET_<triple>_RUSTFLAGS, which carries the 16 KB page-size link argument; unset it, or put your flags in CARGO_TARGET_<triple>_RUSTFLAGS");
        }
    }
    Ok(())
}

/// The ABIs to build: all four, or the comma-separated names in `filter`.
fn selected_abis(filter: Option<&str>) -> Result<Vec<(&'static str, &'static str)>> {
    let Some(filter) = filter.filter(|f| !f.trim().is_empty()) else {
        return Ok(ABIS.to_vec());
    };
    filter
        .split(',')
        .map(str::trim)
        .map(|name| {
            ABIS.iter()
                .find(|(abi, _)| *abi == name)
                .copied()
                .with_context(|| format!("MMC_ANDROID_ABIS: unknown ABI `{name}` (known: arm64-v8a, armeabi-v7a, x86_64, x86)"))
        })
        .collect()
}

/// The NDK's root directory from `ANDROID_NDK_HOME` or `ANDROID_NDK_ROOT`.
fn ndk_home() -> Result<PathBuf> {
    let Some((var, value)) = ["ANDROID_NDK_HOME", "ANDROID_NDK_ROOT"]
        .iter()
        .find_map(|var| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(|v| (*var, PathBuf::from(v)))
        })
    else {
        bail!("the Android NDK is missing: set ANDROID_NDK_HOME (or ANDROID_NDK_ROOT) to its root directory");
    };
    if !value.join("toolchains").join("llvm").is_dir() {
        bail!(
            "{var}={} is not an Android NDK (no toolchains/llvm in it)",
            value.display()
        );
    }
    Ok(value)
}

fn check_cargo_ndk() -> Result<()> {
    let works = Command::new(ctx::cargo())
        .args(["ndk", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !works {
        bail!("cargo-ndk is not installed: `cargo install cargo-ndk`");
    }
    Ok(())
}

fn check_rust_targets(abis: &[(&str, &str)]) -> Result<()> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("could not run `rustup target list --installed`: is rustup installed?")?;
    let installed = String::from_utf8_lossy(&output.stdout);
    let missing = missing_targets(&installed, abis);
    if !missing.is_empty() {
        bail!(
            "rust targets not installed: `rustup target add {}`",
            missing.join(" ")
        );
    }
    Ok(())
}

/// The Rust targets of `abis` that `installed` (rustup's list) lacks.
fn missing_targets<'a>(installed: &str, abis: &[(&str, &'a str)]) -> Vec<&'a str> {
    abis.iter()
        .map(|(_, target)| *target)
        .filter(|target| !installed.lines().any(|line| line.trim() == *target))
        .collect()
}

/// `kotlin/gradlew` when the project has a wrapper, else `gradle` from PATH.
fn gradle_command(kotlin: &Path) -> Result<Command> {
    let wrapper = kotlin.join("gradlew");
    if wrapper.is_file() {
        return Ok(Command::new(wrapper));
    }
    if ctx::have_tool("gradle") {
        return Ok(Command::new("gradle"));
    }
    bail!("Gradle is missing: put `gradle` (8.9 or later) on PATH or add a wrapper in kotlin/ (`gradle wrapper`)")
}

/// Why `core-android` cannot be built here, or `None` when it can.
pub fn missing_tools() -> Option<String> {
    ndk_home().err().map(|e| format!("{e:#}"))
}

/// Builds `core-android` in cargo `profile` and publishes it for the
/// workspace's version (`Ctx::version`; the Gradle build reads the same
/// `Cargo.toml`) into the Maven repository at `repo`, unsigned:
/// `release-local`'s staging directory, which JReleaser signs and uploads
/// beside core-jvm (`jreleaser.rs`).
///
/// The vanniktech maven-publish plugin writes `dev.matrixmobilecore:core-android`
/// and `dev.matrixmobilecore:rustls-platform-verifier-android` (see
/// [`verifier`]): each release AAR, its sources jar, its javadoc jar (AGP's,
/// KDoc rendered by Dokka), the POM (core-android's names jna `@aar`,
/// kotlinx-coroutines-android, androidx.startup and the verifier), Gradle
/// module metadata, and their checksums. Everything core-android depends on
/// is then in `repo` or on Maven Central and Google's repository.
pub fn publish(ctx: &Ctx, profile: &str, repo: &Path) -> Result<()> {
    let version = ctx.version()?;
    let kotlin = build(ctx, profile)?;
    std::fs::create_dir_all(repo).with_context(|| format!("creating {}", repo.display()))?;
    let repo = repo.canonicalize()?;
    let mut publish = gradle_command(&kotlin)?;
    // Unqualified: the task of both modules, core-android and the verifier.
    publish.current_dir(&kotlin).args([
        "publishMavenPublicationToReleaseDirRepository".to_owned(),
        "-Pmmc.skipCargo=true".to_owned(),
        format!("-Pmmc.releaseRepo={}", repo.display()),
        "--stacktrace".to_owned(),
    ]);
    ctx::run(&mut publish)?;
    println!(
        "android: dev.matrixmobilecore:core-android:{version} in {}",
        repo.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selected_abis_defaults_to_all_four_and_filters_by_name() {
        assert_eq!(selected_abis(None).unwrap().len(), 4);
        assert_eq!(selected_abis(Some(" ")).unwrap().len(), 4);
        assert_eq!(
            selected_abis(Some("x86_64")).unwrap(),
            vec![("x86_64", "x86_64-linux-android")]
        );
        assert!(selected_abis(Some("mips")).is_err());
    }

    #[test]
    fn page_size_flag_goes_to_each_targets_own_rustflags() {
        let (var, flags) = page_size_rustflags("armv7-linux-androideabi");
        assert_eq!(var, "CARGO_TARGET_ARMV7_LINUX_ANDROIDEABI_RUSTFLAGS");
        assert!(flags.ends_with("-C link-arg=-Wl,-z,max-page-size=16384"));
    }

    #[test]
    fn missing_targets_names_only_the_absent_ones() {
        let installed = "x86_64-unknown-linux-gnu\naarch64-linux-android\n";
        assert_eq!(
            missing_targets(installed, &ABIS),
            vec![
                "armv7-linux-androideabi",
                "x86_64-linux-android",
                "i686-linux-android"
            ]
        );
    }
}
