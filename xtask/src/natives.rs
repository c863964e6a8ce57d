//! The native libraries `core-jvm` carries: one per desktop platform, each
//! where JNA looks for it on the class path (`<RESOURCE_PREFIX>/<file>`), so
//! a developer on any of them gets a working jar from Maven Central.
//!
//! Only the host's library is built here (`release-local` builds it); the
//! others come prebuilt from the release workflow's `jvm-natives` jobs, one
//! runner per platform, all from the same commit, laid out in a folder as
//! the jar lays them out (`--jvm-natives DIR`: `DIR/linux-aarch64/
//! libmatrix_mobile_core.so`, …). [`check_dir`] refuses a folder that holds
//! anything else, so a misnamed or misplaced library fails the build rather
//! than the app's first call (`UnsatisfiedLinkError`). A publication to
//! Maven Central must carry all five ([`missing`]).

use std::path::Path;

use anyhow::{bail, Context, Result};

/// Every platform `core-jvm` is published for: JNA's resource prefix and the
/// library's file name there.
pub const PLATFORMS: [(&str, &str); 5] = [
    ("linux-x86-64", "libmatrix_mobile_core.so"),
    ("linux-aarch64", "libmatrix_mobile_core.so"),
    ("darwin-aarch64", "libmatrix_mobile_core.dylib"),
    ("darwin-x86-64", "libmatrix_mobile_core.dylib"),
    ("win32-x86-64", "matrix_mobile_core.dll"),
];

/// The jar entries (`prefix/file`) of the prebuilt libraries in `dir`.
///
/// Fails on a folder that is not a known prefix, a file that is not that
/// platform's library (or a second file), an empty library, and the host's
/// own prefix (`host`): the host's library is the one this build made.
pub fn check_dir(dir: &Path, host: &str) -> Result<Vec<String>> {
    let mut entries = Vec::new();
    let listing = std::fs::read_dir(dir)
        .with_context(|| format!("reading --jvm-natives {}", dir.display()))?;
    for platform in listing {
        let platform = platform?;
        let prefix = platform.file_name().to_string_lossy().into_owned();
        let Some((_, file)) = PLATFORMS.iter().find(|(p, _)| *p == prefix) else {
            bail!(
                "--jvm-natives: `{prefix}` is not a JNA resource prefix core-jvm is published for ({})",
                PLATFORMS.map(|(p, _)| p).join(", ")
            );
        };
        if prefix == host {
            bail!("--jvm-natives: `{prefix}` is this host's; its library comes from this build");
        }
        let files: Vec<String> = std::fs::read_dir(platform.path())
            .with_context(|| format!("reading {}", platform.path().display()))?
            .map(|f| f.map(|f| f.file_name().to_string_lossy().into_owned()))
            .collect::<std::io::Result<_>>()?;
        if files != [*file] {
            bail!("--jvm-natives: `{prefix}/` must hold exactly `{file}`, not {files:?}");
        }
        let library = platform.path().join(file);
        if std::fs::metadata(&library)?.len() == 0 {
            bail!("--jvm-natives: {} is empty", library.display());
        }
        entries.push(format!("{prefix}/{file}"));
    }
    entries.sort();
    Ok(entries)
}

/// The platforms of [`PLATFORMS`] that none of `entries` serves.
pub fn missing(entries: &[String]) -> Vec<&'static str> {
    PLATFORMS
        .iter()
        .filter(|(prefix, file)| !entries.contains(&format!("{prefix}/{file}")))
        .map(|(prefix, _)| *prefix)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(files: &[(&str, &str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (prefix, file, bytes) in files {
            std::fs::create_dir_all(dir.path().join(prefix)).unwrap();
            std::fs::write(dir.path().join(prefix).join(file), bytes).unwrap();
        }
        dir
    }

    #[test]
    fn the_four_other_platforms_are_accepted_and_with_the_host_none_is_missing() {
        let dir = layout(&[
            ("linux-aarch64", "libmatrix_mobile_core.so", b"elf"),
            ("darwin-aarch64", "libmatrix_mobile_core.dylib", b"macho"),
            ("darwin-x86-64", "libmatrix_mobile_core.dylib", b"macho"),
            ("win32-x86-64", "matrix_mobile_core.dll", b"pe"),
        ]);
        let mut entries = check_dir(dir.path(), "linux-x86-64").unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(missing(&entries), ["linux-x86-64"]);
        entries.push("linux-x86-64/libmatrix_mobile_core.so".into());
        assert!(missing(&entries).is_empty());
    }

    #[test]
    fn a_misnamed_library_an_unknown_prefix_and_the_hosts_own_are_refused() {
        let misnamed = layout(&[("darwin-aarch64", "libmatrix_mobile_core.so", b"x")]);
        let e = check_dir(misnamed.path(), "linux-x86-64").unwrap_err();
        assert!(
            e.to_string()
                .contains("exactly `libmatrix_mobile_core.dylib`"),
            "{e}"
        );
        let unknown = layout(&[("macos-arm64", "libmatrix_mobile_core.dylib", b"x")]);
        let e = check_dir(unknown.path(), "linux-x86-64").unwrap_err();
        assert!(e.to_string().contains("not a JNA resource prefix"), "{e}");
        let host = layout(&[("linux-x86-64", "libmatrix_mobile_core.so", b"x")]);
        let e = check_dir(host.path(), "linux-x86-64").unwrap_err();
        assert!(e.to_string().contains("this host's"), "{e}");
        let empty = layout(&[("win32-x86-64", "matrix_mobile_core.dll", b"")]);
        let e = check_dir(empty.path(), "linux-x86-64").unwrap_err();
        assert!(e.to_string().contains("is empty"), "{e}");
        let extra = layout(&[
            ("win32-x86-64", "matrix_mobile_core.dll", b"pe"),
            ("win32-x86-64", "matrix_mobile_core.pdb", b"pdb"),
        ]);
        assert!(check_dir(extra.path(), "linux-x86-64").is_err());
    }
}
