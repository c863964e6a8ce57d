//! The Swift package's generated files, committed to the repository so that
//! an app which resolves the package by URL never runs the xtask.
//!
//! Three files, all derived from the core's cdylib (`uniffi-bindgen` in
//! library mode, then [`super::cancel::patch`]):
//!
//! - `swift/Sources/MatrixMobileCore/Generated/MatrixMobileCore.swift`, the
//!   bindings;
//! - `swift/Sources/MatrixMobileCoreFFI/MatrixMobileCoreFFI.h`, the C header,
//!   which the Linux system-library target uses (on Apple platforms the
//!   XCFramework carries its own copy, made by the same function);
//! - `swift/Sources/MatrixMobileCoreFFI/module.modulemap`, the Linux module
//!   map that links `libmatrix_mobile_core`.
//!
//! `cargo xtask swift-bindings` writes them; `cargo xtask test swift` and the
//! Apple build refuse to run when the committed files differ from a fresh
//! generation, so the package in git always matches the core in git.

use crate::ctx::Ctx;
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// The C module of the core, in both the header name and the module maps.
pub const FFI_MODULE: &str = "MatrixMobileCoreFFI";
/// Where the committed bindings live, relative to the repository root.
const SWIFT_FILE: &str = "swift/Sources/MatrixMobileCore/Generated/MatrixMobileCore.swift";
const LINUX_FFI_DIR: &str = "swift/Sources/MatrixMobileCoreFFI";
/// The command that rewrites the committed files.
pub const REGENERATE: &str = "cargo xtask swift-bindings";

/// One generated file: its path relative to the repository root and its
/// content.
pub struct GeneratedFile {
    pub path: PathBuf,
    pub contents: Vec<u8>,
}

/// The package's generated files for `library` (the core's cdylib, or its
/// static library: uniffi-bindgen's library mode reads both), in memory,
/// cancellation patch applied. Nothing in the repository is touched.
pub fn generate(ctx: &Ctx, library: &Path) -> Result<Vec<GeneratedFile>> {
    let out = ctx.target_dir().join("bindings").join("swift");
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    fs::create_dir_all(&out)?;
    crate::bindings::generate(ctx, "swift", &out, library)?;

    let header = find_one(&out, "h")?;
    let header_name = file_name(&header)?;
    if header_name != format!("{FFI_MODULE}.h") {
        bail!("uniffi-bindgen wrote {header_name}, expected {FFI_MODULE}.h (core/uniffi.toml's ffi_module_name?)");
    }
    let swift = fs::read_to_string(find_one(&out, "swift")?)?;
    let swift = super::cancel::patch(&swift)
        .context("patching the generated Swift so that Task cancellation reaches the core")?;
    Ok(vec![
        GeneratedFile {
            path: SWIFT_FILE.into(),
            contents: swift.into_bytes(),
        },
        GeneratedFile {
            path: Path::new(LINUX_FFI_DIR).join(&header_name),
            contents: fs::read(&header)?,
        },
        GeneratedFile {
            path: Path::new(LINUX_FFI_DIR).join("module.modulemap"),
            contents: linux_module_map(&header_name).into_bytes(),
        },
    ])
}

/// The committed generated files, relative to the repository root, in the
/// order [`generate`] returns them.
pub fn committed_paths() -> [PathBuf; 3] {
    let ffi = Path::new(LINUX_FFI_DIR);
    [
        SWIFT_FILE.into(),
        ffi.join(format!("{FFI_MODULE}.h")),
        ffi.join("module.modulemap"),
    ]
}

/// Writes `files` under `root`, touching only files whose content changed
/// (so SwiftPM does not rebuild for nothing). Returns the paths it rewrote.
pub fn write(root: &Path, files: &[GeneratedFile]) -> Result<Vec<PathBuf>> {
    let mut changed = Vec::new();
    for file in files {
        let path = root.join(&file.path);
        if fs::read(&path).is_ok_and(|old| old == file.contents) {
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, &file.contents).with_context(|| format!("writing {}", path.display()))?;
        changed.push(file.path.clone());
    }
    Ok(changed)
}

/// Fails, naming each file and the command that fixes it, when a committed
/// file under `root` differs from `files` or is missing.
pub fn check(root: &Path, files: &[GeneratedFile]) -> Result<()> {
    let stale: Vec<String> = files
        .iter()
        .filter(|f| fs::read(root.join(&f.path)).map_or(true, |old| old != f.contents))
        .map(|f| f.path.display().to_string())
        .collect();
    if !stale.is_empty() {
        bail!(
            "the committed Swift bindings are not what the core generates now:\n  {}\n\
             regenerate them with `{REGENERATE}` and commit the result",
            stale.join("\n  ")
        );
    }
    Ok(())
}

/// The header among `files` (for the XCFramework's Headers directory).
pub fn header(files: &[GeneratedFile]) -> Result<&GeneratedFile> {
    files
        .iter()
        .find(|f| f.path.extension().is_some_and(|e| e == "h"))
        .context("no header among the generated files")
}

/// The module map of the Linux system-library target: the generated header,
/// plus the instruction to link `libmatrix_mobile_core`.
fn linux_module_map(header: &str) -> String {
    format!(
        "module {FFI_MODULE} {{\n    header \"{header}\"\n    link \"matrix_mobile_core\"\n    export *\n}}\n"
    )
}

/// The single file with extension `ext` directly in `dir`.
fn find_one(dir: &Path, ext: &str) -> Result<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == ext) {
            found.push(path);
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!(
            "expected one .{ext} file in {}, found {found:?}",
            dir.display()
        ),
    }
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .with_context(|| format!("no file name in {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_map_links_the_core() {
        let map = linux_module_map("MatrixMobileCoreFFI.h");
        assert!(map.starts_with("module MatrixMobileCoreFFI {"));
        assert!(map.contains("header \"MatrixMobileCoreFFI.h\""));
        assert!(map.contains("link \"matrix_mobile_core\""));
    }

    #[test]
    fn check_names_stale_and_missing_files_and_the_fix() -> Result<()> {
        let root = std::env::temp_dir().join(format!("mmc-swift-check-{}", std::process::id()));
        let files = vec![
            GeneratedFile {
                path: "a/same.txt".into(),
                contents: b"same".to_vec(),
            },
            GeneratedFile {
                path: "a/stale.txt".into(),
                contents: b"new".to_vec(),
            },
            GeneratedFile {
                path: "a/missing.txt".into(),
                contents: b"x".to_vec(),
            },
        ];
        fs::create_dir_all(root.join("a"))?;
        fs::write(root.join("a/same.txt"), "same")?;
        fs::write(root.join("a/stale.txt"), "old")?;
        let err = format!(
            "{:#}",
            check(&root, &files).err().context("expected an error")?
        );
        assert!(
            err.contains("a/stale.txt") && err.contains("a/missing.txt"),
            "{err}"
        );
        assert!(!err.contains("a/same.txt"), "{err}");
        assert!(err.contains(REGENERATE), "{err}");

        let changed = write(&root, &files)?;
        assert_eq!(
            changed,
            [PathBuf::from("a/stale.txt"), "a/missing.txt".into()]
        );
        check(&root, &files)?;
        fs::remove_dir_all(&root)?;
        Ok(())
    }
}
