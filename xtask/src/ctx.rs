//! Paths and process helpers shared by every command.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// The package selection of every build of the core: the core alone. Cargo
/// unifies dependency features over the packages of one invocation, so builds
/// that select the same set (the suites, the stress and bench workloads,
/// `cargo test`, maturin's `cargo rustc` for the wheel) share one build of
/// matrix-sdk per profile. Selecting xtask too would add its dependencies'
/// features (plotters, UniFFI's generator) and build matrix-sdk again.
pub const CORE_PACKAGES: [&str; 2] = ["-p", "matrix-mobile-core"];

/// Where things are: the repository, its git-ignored caches, the build outputs.
pub struct Ctx {
    /// The workspace root.
    pub root: PathBuf,
}

impl Ctx {
    pub fn new() -> Result<Self> {
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let root = manifest
            .parent()
            .context("xtask has no parent directory")?
            .to_path_buf();
        Ok(Self { root })
    }

    /// `target/` of the workspace.
    pub fn target_dir(&self) -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join("target"))
    }

    /// Per-user cache outside the repository (the Swift root lives here).
    pub fn user_cache(&self) -> PathBuf {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(|| PathBuf::from("/tmp"))
            .join("matrix-mobile-core")
    }

    /// The host cdylib of the core for a cargo profile (`debug`, `bench-fast`).
    pub fn cdylib(&self, profile_dir: &str) -> PathBuf {
        self.target_dir().join(profile_dir).join(format!(
            "{}matrix_mobile_core.{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_EXTENSION
        ))
    }

    /// The project's version: `[workspace.package] version` in the root
    /// `Cargo.toml`, the one place it is written. Maven, Gradle, SwiftPM and the
    /// wheel are given this value; none of them states its own.
    pub fn version(&self) -> Result<String> {
        self.workspace_package("version")
    }

    /// The project's home: `[workspace.package] repository` in the root
    /// `Cargo.toml`, without a trailing slash. The POMs' `url` and `scm`, the
    /// README's links and Package.swift's release URL are derived from it
    /// (`repository::check` fails when one of them disagrees).
    pub fn repository(&self) -> Result<String> {
        Ok(self
            .workspace_package("repository")?
            .trim_end_matches('/')
            .to_owned())
    }

    /// The string value of `key` under `[workspace.package]` in the root
    /// `Cargo.toml`.
    fn workspace_package(&self, key: &str) -> Result<String> {
        let manifest = std::fs::read_to_string(self.root.join("Cargo.toml"))
            .context("reading the workspace Cargo.toml")?;
        workspace_package_value(&manifest, key)
            .with_context(|| format!("no `{key}` under [workspace.package] in Cargo.toml"))
    }

    /// Builds the core's host library in cargo `profile` (`dev`, `release`,
    /// `bench-fast`) and returns the cdylib's path.
    pub fn build_core(&self, profile: &str) -> Result<PathBuf> {
        self.build_core_with(profile, &[])
    }

    /// [`Ctx::build_core`] with the core's cargo `features` enabled (the
    /// benchmark's `diagnostics`). The cdylib is written over the one of
    /// `profile`: the next plain build writes it back without them.
    pub fn build_core_with(&self, profile: &str, features: &[&str]) -> Result<PathBuf> {
        let mut command = Command::new(cargo());
        command
            .current_dir(&self.root)
            .arg("build")
            .args(CORE_PACKAGES)
            .args(["--lib", "--profile", profile]);
        if !features.is_empty() {
            command.args(["--features", &features.join(",")]);
        }
        run(&mut command)?;
        Ok(self.cdylib(profile_dir(profile)))
    }

    /// Builds the core's example `name` in cargo `profile` and returns the
    /// executable's path.
    pub fn build_example(&self, profile: &str, name: &str) -> Result<PathBuf> {
        run(Command::new(cargo())
            .current_dir(&self.root)
            .args(["build", "--profile", profile])
            .args(CORE_PACKAGES)
            .args(["--example", name]))?;
        Ok(self
            .target_dir()
            .join(profile_dir(profile))
            .join("examples")
            .join(name))
    }

    /// Builds the core's host library (debug) and returns the cdylib's path.
    pub fn build_core_debug(&self) -> Result<PathBuf> {
        run(Command::new(cargo())
            .current_dir(&self.root)
            .arg("build")
            .args(CORE_PACKAGES)
            .arg("--lib"))?;
        Ok(self.cdylib("debug"))
    }
}

/// The folder under `target/` that cargo `profile` writes to.
pub fn profile_dir(profile: &str) -> &str {
    match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    }
}

/// The string value of `key` in the `[workspace.package]` table of a Cargo
/// manifest.
fn workspace_package_value(manifest: &str, key: &str) -> Option<String> {
    let mut in_table = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_table = line == "[workspace.package]";
            continue;
        }
        if !in_table {
            continue;
        }
        if let Some((name, value)) = line.split_once('=') {
            if name.trim() == key {
                return Some(value.trim().trim_matches('"').to_owned());
            }
        }
    }
    None
}

/// The cargo that runs us.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Runs a command, failing with its command line when it exits non-zero.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// Waits for `child` to exit, for at most `limit`; past it, kills the child
/// and returns `None`.
pub fn wait_or_kill(child: &mut Child, limit: Duration) -> Result<Option<ExitStatus>> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether `tool` is on PATH.
pub fn have_tool(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| is_executable(&dir.join(tool))))
        .unwrap_or(false)
}

fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::workspace_package_value;

    #[test]
    fn reads_the_workspace_version_only() {
        let manifest = "[package]\nversion = \"9.9.9\"\n\n[workspace.package]\nedition = \"2021\"\nversion = \"0.3.1\"\n";
        let version = |manifest| workspace_package_value(manifest, "version");
        assert_eq!(version(manifest).as_deref(), Some("0.3.1"));
        assert_eq!(version("[package]\nversion = \"1.0.0\"\n"), None);
    }

    #[test]
    fn reads_a_workspace_package_key_by_its_exact_name() {
        let manifest =
            "[workspace.package]\nrepository-x = \"no\"\nrepository = \"https://example.org/r\"\n";
        assert_eq!(
            workspace_package_value(manifest, "repository").as_deref(),
            Some("https://example.org/r")
        );
        assert_eq!(workspace_package_value(manifest, "homepage"), None);
    }
}
