//! `@unchecked Sendable` in the hand-written Swift carries its proof.
//!
//! Swift 6 checks `Sendable` conformances, except those marked
//! `@unchecked`: there the author vouches that the type's state is safe to
//! share across threads. In the package's own sources and tests (not the
//! UniFFI-generated file), every such declaration must open its body with a
//! comment that says why:
//!
//! ```swift
//! final class Counter: @unchecked Sendable {
//!     // @unchecked Sendable, proved: `count` is read and written only
//!     // between `lock.lock()` and `lock.unlock()`; ...
//! ```
//!
//! [`check`] fails, naming each file and line, when one does not.
//! `cargo test -p xtask` and `cargo xtask test swift` run it.

use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// The conformance that needs a proof.
const MARK: &str = "@unchecked Sendable";
/// How the proof starts, on the first line of the declaration's body.
pub const PROOF: &str = "// @unchecked Sendable, proved:";
/// The Swift files checked, relative to the repository root.
const DIRS: [&str; 2] = ["swift/Sources", "swift/Tests"];
/// UniFFI's output: its object classes are `@unchecked Sendable` by the
/// generator's design (an immutable handle to a `Send + Sync` Rust object).
const GENERATED: &str = "swift/Sources/MatrixMobileCore/Generated";

/// Fails when an `@unchecked Sendable` of the hand-written Swift under `root`
/// does not open its body with a [`PROOF`] comment.
pub fn check(root: &Path) -> Result<()> {
    let mut files = Vec::new();
    for dir in DIRS {
        swift_files(root, Path::new(dir), &mut files)?;
    }
    if files.is_empty() {
        bail!("no Swift files under {DIRS:?}");
    }
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(root.join(&file))
            .with_context(|| format!("reading {}", file.display()))?;
        found.extend(problems(&file.display().to_string(), &text));
    }
    if !found.is_empty() {
        bail!(
            "`{MARK}` without its proof (the first line of the body must be a \
             `{PROOF} ...` comment that says why sharing it is safe):\n  - {}",
            found.join("\n  - ")
        );
    }
    Ok(())
}

/// The `.swift` files under `root/dir`, relative to `root`, the generated
/// bindings excepted.
fn swift_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if dir == Path::new(GENERATED) {
        return Ok(());
    }
    let entries =
        fs::read_dir(root.join(dir)).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = dir.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            swift_files(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "swift") {
            out.push(path);
        }
    }
    Ok(())
}

/// `file:line` of each `@unchecked Sendable` in `text` whose body does not
/// start with a proof. Mentions in comments do not count.
fn problems(file: &str, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !code(line).contains(MARK) {
            continue;
        }
        // The body opens on the declaration's line or a later one (a
        // declaration may wrap); the proof is the line after the `{`.
        let proof = (i..lines.len())
            .find(|&j| code(lines[j]).contains('{'))
            .and_then(|open| lines.get(open + 1))
            .and_then(|next| next.trim_start().strip_prefix(PROOF))
            .is_some_and(|why| !why.trim().is_empty());
        if !proof {
            found.push(format!("{file}:{}: {}", i + 1, line.trim()));
        }
    }
    found
}

/// `line` without its `//` comment.
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |at| &line[..at])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_on_the_first_line_of_the_body_passes() {
        let text = "/// Shared.\n\
                    final class A: Listener, @unchecked Sendable {\n    \
                        // @unchecked Sendable, proved: `n` is only touched under `lock`.\n    \
                        private var n = 0\n\
                    }\n\
                    final class B<T>: @unchecked Sendable\n    where T: Sendable\n{\n    \
                        // @unchecked Sendable, proved: no mutable state.\n\
                    }\n\
                    // Mentioned in a comment: @unchecked Sendable.\n\
                    final class C: Sendable {}\n";
        assert!(problems("a.swift", text).is_empty());
    }

    #[test]
    fn a_missing_late_or_empty_proof_is_named() {
        let text = "final class A: @unchecked Sendable {\n    \
                        private var n = 0\n\
                    }\n\
                    final class B: @unchecked Sendable {\n    \
                        private let lock = NSLock()\n    \
                        // @unchecked Sendable, proved: too late, not the first line.\n\
                    }\n\
                    final class C: @unchecked Sendable {\n    \
                        // @unchecked Sendable, proved:\n\
                    }\n\
                    extension D: @unchecked Sendable {}\n\
                    final class E: @unchecked Sendable {\n    \
                        // @unchecked Sendable: the old form, which proves nothing.\n\
                    }\n";
        let found = problems("a.swift", text);
        let lines: Vec<&str> = found
            .iter()
            .map(|f| f.split(": ").next().unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                "a.swift:1",
                "a.swift:4",
                "a.swift:8",
                "a.swift:11",
                "a.swift:12"
            ]
        );
    }

    #[test]
    fn check_skips_the_generated_bindings_only() -> Result<()> {
        let root = tempfile::tempdir()?;
        let generated = root.path().join(GENERATED);
        let tests = root.path().join("swift/Tests/T");
        fs::create_dir_all(&generated)?;
        fs::create_dir_all(&tests)?;
        let bare = "final class A: @unchecked Sendable {\n}\n";
        fs::write(generated.join("Bindings.swift"), bare)?;
        fs::write(tests.join("Ok.swift"), "final class B: Sendable {}\n")?;
        check(root.path())?;
        fs::write(tests.join("Bare.swift"), bare)?;
        let err = format!("{:#}", check(root.path()).unwrap_err());
        assert!(err.contains("swift/Tests/T/Bare.swift:1"), "{err}");
        assert!(!err.contains("Bindings.swift"), "{err}");
        Ok(())
    }

    /// The package's own sources and tests.
    #[test]
    fn every_unchecked_sendable_of_the_package_carries_its_proof() {
        check(&crate::ctx::Ctx::new().unwrap().root).unwrap();
    }
}
