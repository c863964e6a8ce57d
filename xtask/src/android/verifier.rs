//! rustls-platform-verifier's Kotlin half, published by this project.
//!
//! The Rust crate calls into a small Kotlin class (`org.rustls.platformverifier`)
//! on Android. Its project publishes that class only as a Maven repository on
//! a GitHub branch, so an app that declares `google()` and `mavenCentral()`
//! alone could not resolve `core-android`. Instead, this project builds the
//! class from its upstream sources and publishes it to Maven Central as
//! `dev.matrixmobilecore:rustls-platform-verifier-android`, under the upstream
//! licence (MIT OR Apache-2.0), in the Gradle module `kotlin/platform-verifier`.
//!
//! The sources are pinned, never chosen: the `rustls-platform-verifier-android`
//! crate in `Cargo.lock` records in `.cargo_vcs_info.json` the upstream commit
//! it was published from, and [`fetch`] checks out exactly that commit. The
//! artifact's version is the crate's version, so the Kotlin and Rust halves
//! cannot drift apart. No upstream source is committed here: the checkout
//! lives in `kotlin/platform-verifier/upstream/` (git-ignored), with a
//! `PINNED` file that the Gradle module reads.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ctx::{self, Ctx};

/// The crate that pins the Kotlin half.
const CRATE: &str = "rustls-platform-verifier-android";
/// Where the Kotlin half's sources live upstream.
const UPSTREAM: &str = "https://github.com/rustls/rustls-platform-verifier";
/// The Android library inside the upstream repository.
pub const MODULE_IN_UPSTREAM: &str = "android/rustls-platform-verifier";

/// The upstream commit and version that `Cargo.lock` pins.
#[derive(Debug, PartialEq, Eq)]
pub struct Pin {
    /// The crate's version, which is the published artifact's version.
    pub version: String,
    /// The upstream commit the crate was published from.
    pub commit: String,
}

impl Pin {
    /// The `PINNED` file the Gradle module reads: `key=value` lines.
    fn file_text(&self) -> String {
        format!(
            "version={}\ncommit={}\nrepository={UPSTREAM}\nmodule={MODULE_IN_UPSTREAM}\n",
            self.version, self.commit
        )
    }
}

/// The pin of `Cargo.lock`: the crate's version and the commit in its
/// `.cargo_vcs_info.json` (the crate is found with `cargo metadata`, for an
/// Android target, where it is a dependency).
pub fn pin(ctx: &Ctx) -> Result<Pin> {
    let output = Command::new(ctx::cargo())
        .current_dir(&ctx.root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--filter-platform",
            "aarch64-linux-android",
        ])
        .output()
        .context("could not run cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let package = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == CRATE))
        .with_context(|| format!("{CRATE} is not in cargo metadata: is rustls-platform-verifier still a dependency on Android?"))?;
    let version = package["version"]
        .as_str()
        .context("the crate has no version")?
        .to_owned();
    let manifest = Path::new(
        package["manifest_path"]
            .as_str()
            .context("the crate has no manifest path")?,
    );
    let vcs_info = manifest
        .parent()
        .context("the crate's manifest has no directory")?
        .join(".cargo_vcs_info.json");
    let text = std::fs::read_to_string(&vcs_info).with_context(|| {
        format!(
            "reading {} (the crate must come from crates.io)",
            vcs_info.display()
        )
    })?;
    Ok(Pin {
        version,
        commit: commit_of(&text)?,
    })
}

/// The commit in a `.cargo_vcs_info.json`: 40 hex digits, or an error.
fn commit_of(vcs_info: &str) -> Result<String> {
    let info: serde_json::Value =
        serde_json::from_str(vcs_info).context("the crate's .cargo_vcs_info.json is not JSON")?;
    let commit = info["git"]["sha1"]
        .as_str()
        .context("the crate's .cargo_vcs_info.json names no git commit")?;
    if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("the crate's .cargo_vcs_info.json names `{commit}`, not a commit");
    }
    Ok(commit.to_ascii_lowercase())
}

/// The upstream checkout the Gradle module builds from.
pub fn checkout_dir(ctx: &Ctx) -> PathBuf {
    ctx.root.join("kotlin/platform-verifier/upstream")
}

/// Checks out the pinned upstream commit into [`checkout_dir`] (a shallow
/// fetch of that one commit; nothing is fetched when it is already there)
/// and writes its `PINNED` file. Fails, naming GitHub, where GitHub cannot be
/// reached.
pub fn fetch(ctx: &Ctx) -> Result<Pin> {
    let pin = pin(ctx)?;
    let dir = checkout_dir(ctx);
    let pinned = dir.join("PINNED");
    if std::fs::read_to_string(&pinned).ok().as_deref() == Some(pin.file_text().as_str())
        && head(&dir).as_deref() == Some(pin.commit.as_str())
    {
        return Ok(pin);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    git(&dir, &["init", "--quiet"])?;
    git(
        &dir,
        &["fetch", "--quiet", "--depth", "1", UPSTREAM, &pin.commit],
    )
    .with_context(|| {
        format!(
            "could not fetch {UPSTREAM} at {} ({CRATE} {}): the Android build needs GitHub",
            pin.commit, pin.version
        )
    })?;
    git(&dir, &["checkout", "--quiet", "--detach", "FETCH_HEAD"])?;
    if head(&dir).as_deref() != Some(pin.commit.as_str()) {
        bail!("the checkout in {} is not at {}", dir.display(), pin.commit);
    }
    let sources = dir.join(MODULE_IN_UPSTREAM).join("src/main/java");
    if !sources.is_dir() {
        bail!(
            "{UPSTREAM} at {} has no {MODULE_IN_UPSTREAM}/src/main/java: the upstream layout changed, update kotlin/platform-verifier",
            pin.commit
        );
    }
    std::fs::write(&pinned, pin.file_text())?;
    Ok(pin)
}

fn head(dir: &Path) -> Option<String> {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    ctx::run(Command::new("git").current_dir(dir).args(args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_is_the_locked_crates_version_and_commit() {
        let ctx = Ctx::new().unwrap();
        let pin = pin(&ctx).unwrap();
        let lock = std::fs::read_to_string(ctx.root.join("Cargo.lock")).unwrap();
        let entry = format!("name = \"{CRATE}\"\nversion = \"{}\"", pin.version);
        assert!(lock.contains(&entry), "Cargo.lock has no {entry}");
        assert_eq!(pin.commit.len(), 40);
    }

    #[test]
    fn a_vcs_info_without_a_commit_is_refused() {
        let good =
            r#"{"git": {"sha1": "252E25161A91AF476CBEA620E29D277592D27EC7"}, "path_in_vcs": "x"}"#;
        assert_eq!(
            commit_of(good).unwrap(),
            "252e25161a91af476cbea620e29d277592d27ec7"
        );
        for bad in [
            r#"{"path_in_vcs": "x"}"#,
            r#"{"git": {"sha1": "main"}}"#,
            r#"{"git": {"sha1": "252e25161a91af476cbea620e29d277592d27ecz"}}"#,
            "not json",
        ] {
            assert!(commit_of(bad).is_err(), "{bad} was taken");
        }
    }

    /// The repositories declared in the first `dependencyResolutionManagement`
    /// block of `text` (Gradle settings, or a README snippet of one).
    fn declared_repositories(text: &str) -> Vec<String> {
        let start = text
            .find("dependencyResolutionManagement")
            .expect("no dependencyResolutionManagement block");
        let mut depth = 0;
        let mut names = Vec::new();
        let mut opened = false;
        for line in text[start..].lines() {
            let code = line.split("//").next().unwrap_or_default().trim();
            for kind in [
                "google(",
                "mavenCentral(",
                "mavenLocal(",
                "gradlePluginPortal(",
                "maven {",
                "maven(",
                "ivy",
                "jcenter(",
            ] {
                if code.starts_with(kind) {
                    names.push(kind.trim_end_matches(['(', ' ', '{']).to_owned());
                }
            }
            depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
            opened |= depth > 0;
            if opened && depth <= 0 {
                break;
            }
        }
        names
    }

    #[test]
    fn core_android_resolves_from_google_and_maven_central_alone() {
        let ctx = Ctx::new().unwrap();
        let settings =
            std::fs::read_to_string(ctx.root.join("kotlin/settings.gradle.kts")).unwrap();
        assert_eq!(declared_repositories(&settings), ["google", "mavenCentral"]);
        let readme = std::fs::read_to_string(ctx.root.join("README.md")).unwrap();
        let quick_start = &readme[readme.find("## Android quick start").unwrap()..];
        assert_eq!(
            declared_repositories(quick_start),
            ["google", "mavenCentral"]
        );
        let build = std::fs::read_to_string(ctx.root.join("kotlin/build.gradle.kts")).unwrap();
        assert!(build.contains("implementation(project(\":platform-verifier\"))"));
        assert!(
            !build.contains("\"rustls:"),
            "core-android still names upstream's artifact"
        );
    }

    #[test]
    fn repositories_are_read_from_the_resolution_block_only() {
        let text = "pluginManagement { repositories { gradlePluginPortal() } }\n\
                    dependencyResolutionManagement {\n  repositories {\n    google()\n    // maven { }\n    maven {\n      url = uri(\"x\")\n    }\n  }\n}\nmavenLocal()\n";
        assert_eq!(declared_repositories(text), ["google", "maven"]);
    }

    #[test]
    fn the_pinned_file_names_version_commit_and_module() {
        let pin = Pin {
            version: "0.2.0".into(),
            commit: "a".repeat(40),
        };
        let text = pin.file_text();
        assert!(text.starts_with("version=0.2.0\ncommit=aaaa"));
        assert!(text.contains(&format!("module={MODULE_IN_UPSTREAM}\n")));
    }
}
