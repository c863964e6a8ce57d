//! Stripping a built library after its bindings have been generated.
//!
//! uniffi-bindgen's library mode reads the UniFFI metadata from the
//! library's symbol table, so a library stripped at link time (`strip = true`
//! in a cargo profile) yields no bindings at all. The cargo profiles therefore
//! keep the symbol table (`[profile.release] strip = "debuginfo"`), the
//! bindings are generated from that build, and what ships is a stripped copy
//! made here. Every profile goes through the same step, so the debug
//! artifacts the test suites consume are stripped exactly as a release is.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Prefix of the scaffolding functions the bindings call: they live in the
/// dynamic symbol table, which stripping keeps.
const EXPORTED_PREFIX: &str = "uniffi_matrix_mobile_core_fn_";

/// Writes a stripped copy of `lib` to `<lib's folder>/stripped/<file name>`
/// and returns its path. `lib` itself is left as cargo built it, so that
/// cargo's freshness checks and later bindings still see the full library.
///
/// Fails when no `strip` tool is on PATH, or when the copy lost the exported
/// functions the bindings call.
pub fn stripped_copy(lib: &Path) -> Result<PathBuf> {
    let name = lib
        .file_name()
        .context("the library path has no file name")?;
    let dir = lib
        .parent()
        .context("the library path has no folder")?
        .join("stripped");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let out = dir.join(name);
    let mut strip = Command::new("strip");
    if cfg!(target_vendor = "apple") {
        // Apple's strip: local symbols only; a dylib's exports must stay.
        strip.arg("-x");
    } else {
        strip.arg("--strip-all");
    }
    let status = strip
        .arg("-o")
        .arg(&out)
        .arg(lib)
        .status()
        .context("could not run `strip` (binutils on Linux, Xcode's tools on macOS)")?;
    if !status.success() {
        bail!("`strip` failed on {} with {status}", lib.display());
    }
    let exported = exported_functions(&out)?;
    if exported == 0 {
        bail!(
            "the stripped {} exports no `{EXPORTED_PREFIX}*` function",
            out.display()
        );
    }
    let (before, after) = (file_size(lib)?, file_size(&out)?);
    println!(
        "strip: {} {:.2} MiB -> {:.2} MiB, {exported} functions exported",
        name.to_string_lossy(),
        mib(before),
        mib(after)
    );
    Ok(out)
}

/// Number of the core's scaffolding functions in `lib`'s dynamic symbol table.
fn exported_functions(lib: &Path) -> Result<usize> {
    let output = Command::new("nm")
        .args(if cfg!(target_vendor = "apple") {
            ["-gU"]
        } else {
            ["-D"]
        })
        .arg(lib)
        .output()
        .context("could not run `nm`")?;
    if !output.status.success() {
        bail!(
            "`nm` failed on {}: {}",
            lib.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .last()
                .is_some_and(|s| s.trim_start_matches('_').starts_with(EXPORTED_PREFIX))
        })
        .count())
}

fn file_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    /// The shipped profile must keep the symbol table: without it
    /// uniffi-bindgen finds no metadata and `release-local` writes nothing.
    #[test]
    fn the_release_profile_keeps_the_symbols_the_bindings_need() {
        let manifest = include_str!("../../Cargo.toml");
        let release = manifest
            .split("[profile.release]")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .expect("the workspace manifest has a [profile.release]");
        let strip = release
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("strip"))
            .expect("[profile.release] sets `strip`");
        assert!(
            strip.ends_with("\"debuginfo\"") || strip.ends_with("false"),
            "[profile.release] must not strip symbols (`{strip}`): xtask strips after the bindings"
        );
    }
}
