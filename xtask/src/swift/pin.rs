//! The release binary that the root `Package.swift` pins, and its pairing
//! with the committed bindings.
//!
//! `Package.swift` declares three constants:
//!
//! ```swift
//! let releaseURL: String? = nil
//! let releaseChecksum: String? = nil
//! let releaseBindings: String? = nil
//! ```
//!
//! On the default branch all three are `nil`: it pins no binary, so its
//! bindings are never paired with an XCFramework built from other sources.
//! On a release commit, `cargo xtask swift-pin URL CHECKSUM` (the release
//! workflow, `.github/workflows/release.yml`) sets them: the URL of this
//! version's `MatrixMobileCoreFFI.xcframework.zip`, the checksum `swift
//! package compute-checksum` printed for it, and [`bindings_hash`], the
//! SHA-256 of the committed generated files the binary was built with.
//!
//! [`check`] (run by `cargo test -p xtask`, `cargo xtask test swift` and
//! `release-local`) fails when only some of the constants are set, when the
//! URL is not this version's asset in the project's repository, when a
//! checksum is not a SHA-256 hex digest, or when `releaseBindings` is not the
//! hash of the generated files in the tree. A release commit that someone
//! merged back into the default branch therefore fails the check as soon as
//! the bindings change there.

use crate::ctx::Ctx;
use crate::swift::generated;
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The manifest, relative to the repository root.
const MANIFEST: &str = "Package.swift";
/// The release asset's name (`apple::release_zip` writes it).
pub const ASSET: &str = "MatrixMobileCoreFFI.xcframework.zip";
/// The constants, in the order [`Pin`]'s fields hold them.
const NAMES: [&str; 3] = ["releaseURL", "releaseChecksum", "releaseBindings"];

/// The values of the three constants on a release commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub url: String,
    pub checksum: String,
    pub bindings: String,
}

/// `cargo xtask swift-pin URL CHECKSUM`.
#[derive(clap::Args)]
pub struct Args {
    /// This version's MatrixMobileCoreFFI.xcframework.zip in the project's
    /// GitHub releases.
    url: String,
    /// Its checksum, as `swift package compute-checksum` prints it.
    checksum: String,
}

/// `cargo xtask swift-pin URL CHECKSUM`: sets the three constants of
/// `Package.swift` to `URL`, `CHECKSUM` and the hash of the generated files
/// in the tree, then checks the result. Refuses a manifest that already pins
/// a release: a release commit is made from one that pins nothing.
pub fn write(ctx: &Ctx, args: Args) -> Result<()> {
    let Args { url, checksum } = args;
    let path = ctx.root.join(MANIFEST);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {MANIFEST}"))?;
    let pin = Pin {
        url,
        checksum: checksum.trim().to_ascii_lowercase(),
        bindings: bindings_hash(&ctx.root)?,
    };
    let pinned = pin_text(&text, &pin)?;
    check_text(&pinned, &expected_url(ctx)?, &pin.bindings)
        .context("the pin just written does not pass its own check")?;
    fs::write(&path, pinned).with_context(|| format!("writing {MANIFEST}"))?;
    println!(
        "swift-pin: {MANIFEST} pins {} (checksum {}, bindings {})",
        pin.url, pin.checksum, pin.bindings
    );
    Ok(())
}

/// Fails when `Package.swift`'s release constants are partly set, or set to
/// anything but this version's asset and the hash of the generated files in
/// the tree. All three `nil` (the default branch) passes.
pub fn check(ctx: &Ctx) -> Result<()> {
    let text = fs::read_to_string(ctx.root.join(MANIFEST))
        .with_context(|| format!("reading {MANIFEST}"))?;
    check_text(&text, &expected_url(ctx)?, &bindings_hash(&ctx.root)?)
}

/// The URL of this version's XCFramework in the project's GitHub releases.
fn expected_url(ctx: &Ctx) -> Result<String> {
    Ok(format!(
        "{}/releases/download/v{}/{ASSET}",
        ctx.repository()?,
        ctx.version()?
    ))
}

/// [`check`] on the manifest `text`, with the URL a pin must have and the
/// hash of the bindings it must name.
fn check_text(text: &str, url: &str, bindings: &str) -> Result<()> {
    let Some(pin) = parse(text)? else {
        return Ok(());
    };
    let mut found = Vec::new();
    if pin.url != url {
        found.push(format!(
            "releaseURL is {:?}, but this version's asset is {url:?}",
            pin.url
        ));
    }
    if !is_sha256_hex(&pin.checksum) {
        found.push(format!(
            "releaseChecksum {:?} is not a lowercase SHA-256 hex digest",
            pin.checksum
        ));
    }
    if pin.bindings != bindings {
        found.push(format!(
            "releaseBindings is {:?}, but the generated files in the tree hash to {bindings:?}: \
             the pinned XCFramework was built with other bindings than these",
            pin.bindings
        ));
    }
    if !found.is_empty() {
        bail!(
            "{MANIFEST} pins a binary that does not belong to this commit:\n  - {}\n\
             only the release workflow's `cargo xtask swift-pin` sets these constants, on the \
             release commit; everywhere else they are nil",
            found.join("\n  - ")
        );
    }
    Ok(())
}

/// The release constants of the manifest `text`: `None` when all three are
/// `nil`. Fails when one is missing, declared twice, not `nil` or a plain
/// string literal, or when only some are set.
fn parse(text: &str) -> Result<Option<Pin>> {
    let mut values: [Option<String>; 3] = Default::default();
    for (name, value) in NAMES.iter().zip(values.iter_mut()) {
        let mut declared = text
            .lines()
            .enumerate()
            .filter_map(|(n, line)| declared_value(line, name).map(|v| (n + 1, v)));
        let (line_no, raw) = declared
            .next()
            .with_context(|| format!("{MANIFEST} declares no `let {name}: String? = ...`"))?;
        if let Some((again, _)) = declared.next() {
            bail!("{MANIFEST} declares `{name}` twice (lines {line_no} and {again})");
        }
        *value = literal(raw).with_context(|| {
            format!(
                "{MANIFEST}:{line_no}: `{name}` is `{raw}`; expected `nil` or a string \
                 literal without escapes"
            )
        })?;
    }
    match values {
        [None, None, None] => Ok(None),
        [Some(url), Some(checksum), Some(bindings)] => Ok(Some(Pin {
            url,
            checksum,
            bindings,
        })),
        partial => {
            let state = |set: bool| if set { "set" } else { "nil" };
            let described: Vec<String> = NAMES
                .iter()
                .zip(&partial)
                .map(|(name, v)| format!("{name} {}", state(v.is_some())))
                .collect();
            bail!(
                "{MANIFEST}'s release constants are partly set ({}): either all three name \
                 one release (the release commit) or all three are nil",
                described.join(", ")
            )
        }
    }
}

/// The value text of `line` when it declares the constant `name` as
/// `let NAME: String? = VALUE` at the top level; `None` for any other line.
/// A line that declares `name` in another form yields its whole text, which
/// [`literal`] then refuses.
fn declared_value<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.strip_prefix("let ")?.strip_prefix(name)?;
    if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
        return None; // another identifier with this prefix
    }
    let value = rest
        .trim_start()
        .strip_prefix(": String?")
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix('='))
        .map(str::trim);
    Some(value.unwrap_or(line))
}

/// `nil` → `None`; `"text"` → `Some(text)`. Anything else (escapes,
/// interpolation, another expression, a trailing comment) is refused.
fn literal(raw: &str) -> Option<Option<String>> {
    if raw == "nil" {
        return Some(None);
    }
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains(['"', '\\']) {
        return None;
    }
    Some(Some(inner.to_owned()))
}

/// The manifest `text` with the three constants set to `pin`; nothing else
/// changes. Refuses a manifest that already pins a release, and values that
/// would not pass [`check_text`] as written (a checksum that is not hex, a
/// quote in the URL).
fn pin_text(text: &str, pin: &Pin) -> Result<String> {
    if let Some(old) = parse(text)? {
        bail!(
            "{MANIFEST} already pins {}: `swift-pin` runs on a commit of the default branch, \
             whose release constants are nil",
            old.url
        );
    }
    if !is_sha256_hex(&pin.checksum) || !is_sha256_hex(&pin.bindings) {
        bail!(
            "not SHA-256 hex digests: checksum {:?}, bindings {:?}",
            pin.checksum,
            pin.bindings
        );
    }
    if pin.url.contains(['"', '\\']) || pin.url.chars().any(char::is_whitespace) {
        bail!("{:?} is not a URL to write into a string literal", pin.url);
    }
    let values = [&pin.url, &pin.checksum, &pin.bindings];
    let mut out = String::with_capacity(text.len() + 200);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let replaced = NAMES
            .iter()
            .zip(values)
            .find(|(name, _)| declared_value(body, name).is_some())
            .map(|(name, value)| format!("let {name}: String? = \"{value}\""));
        out.push_str(replaced.as_deref().unwrap_or(body));
        out.push_str(end);
    }
    Ok(out)
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The files `releaseBindings` covers, relative to `root`, sorted by their
/// bytes: every file in the directories of the generated bindings
/// (`swift/Sources/MatrixMobileCore/Generated/`, and the header and module
/// map in `swift/Sources/MatrixMobileCoreFFI/`), so that a file added there
/// by hand is covered too. Fails when one of [`generated::committed_paths`]
/// is missing.
fn bound_files(root: &Path) -> Result<Vec<PathBuf>> {
    let committed = generated::committed_paths();
    let mut dirs: Vec<&Path> = committed.iter().filter_map(|p| p.parent()).collect();
    dirs.sort();
    dirs.dedup();
    let mut files = Vec::new();
    for dir in dirs {
        let entries = fs::read_dir(root.join(dir))
            .with_context(|| format!("reading {}", root.join(dir).display()))?;
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                files.push(dir.join(entry.file_name()));
            }
        }
    }
    for path in &committed {
        if !files.contains(path) {
            bail!(
                "{} is missing; regenerate the bindings with `{}`",
                path.display(),
                generated::REGENERATE
            );
        }
    }
    files.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    Ok(files)
}

/// `releaseBindings` for the tree at `root`: the SHA-256 of the listing that
/// `sha256sum` prints for [`bound_files`] (one `HEX  PATH` line each, paths
/// relative to the root), the same as
///
/// ```sh
/// sha256sum $(find swift/Sources/MatrixMobileCore/Generated \
///     swift/Sources/MatrixMobileCoreFFI -type f | LC_ALL=C sort) | sha256sum
/// ```
///
/// Each file's path and digest are in the listing, so renaming, adding or
/// changing any of them changes the hash.
pub fn bindings_hash(root: &Path) -> Result<String> {
    let mut listing = String::new();
    for path in bound_files(root)? {
        let bytes =
            fs::read(root.join(&path)).with_context(|| format!("reading {}", path.display()))?;
        let shown = path
            .to_str()
            .with_context(|| format!("{} is not UTF-8", path.display()))?;
        let _ = writeln!(listing, "{}  {shown}", hex(&Sha256::digest(&bytes)));
    }
    Ok(hex(&Sha256::digest(listing.as_bytes())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str =
        "https://github.com/o/r/releases/download/v1.2.3/MatrixMobileCoreFFI.xcframework.zip";

    fn manifest(url: &str, checksum: &str, bindings: &str) -> String {
        format!(
            "// swift-tools-version:6.0\n\
             import PackageDescription\n\
             /// Written by `cargo xtask swift-pin`.\n\
             let releaseURL: String? = {url}\n\
             let releaseChecksum: String? = {checksum}\n\
             let releaseBindings: String? = {bindings}\n\
             let releaseURLs = [releaseURL]\n\
             let package = Package(name: \"P\")\n"
        )
    }

    fn quoted(s: &str) -> String {
        format!("\"{s}\"")
    }

    fn nil_manifest() -> String {
        manifest("nil", "nil", "nil")
    }

    fn pinned(bindings: &str) -> String {
        manifest(&quoted(URL), &quoted(&"c".repeat(64)), &quoted(bindings))
    }

    fn error(result: Result<()>) -> String {
        format!("{:#}", result.expect_err("expected the check to fail"))
    }

    #[test]
    fn a_manifest_that_pins_nothing_passes() {
        check_text(&nil_manifest(), URL, &"b".repeat(64)).unwrap();
    }

    #[test]
    fn a_pin_of_these_bindings_and_this_version_passes() {
        check_text(&pinned(&"b".repeat(64)), URL, &"b".repeat(64)).unwrap();
    }

    #[test]
    fn a_pin_of_other_bindings_is_refused() {
        let err = error(check_text(&pinned(&"a".repeat(64)), URL, &"b".repeat(64)));
        assert!(err.contains("releaseBindings"), "{err}");
        assert!(err.contains(&"b".repeat(64)), "{err}");
    }

    #[test]
    fn partly_set_constants_are_refused() {
        let hash = quoted(&"b".repeat(64));
        for text in [
            manifest(&quoted(URL), "nil", "nil"),
            manifest("nil", &quoted(&"c".repeat(64)), "nil"),
            manifest("nil", "nil", &hash),
            manifest(&quoted(URL), &quoted(&"c".repeat(64)), "nil"),
        ] {
            let err = error(check_text(&text, URL, &"b".repeat(64)));
            assert!(err.contains("partly set"), "{err}");
        }
        let err = error(check_text(&manifest(&quoted(URL), "nil", "nil"), URL, "b"));
        assert!(
            err.contains("releaseURL set, releaseChecksum nil, releaseBindings nil"),
            "{err}"
        );
    }

    #[test]
    fn another_versions_asset_or_a_bad_checksum_is_refused() {
        let hash = "b".repeat(64);
        let other = URL.replace("v1.2.3", "v1.2.2");
        let text = manifest(&quoted(&other), &quoted(&"c".repeat(64)), &quoted(&hash));
        assert!(error(check_text(&text, URL, &hash)).contains("this version's asset"));
        let text = manifest(&quoted(URL), &quoted(&"C".repeat(64)), &quoted(&hash));
        assert!(error(check_text(&text, URL, &hash)).contains("releaseChecksum"));
        let text = manifest(&quoted(URL), &quoted("0"), &quoted(&hash));
        assert!(error(check_text(&text, URL, &hash)).contains("releaseChecksum"));
    }

    #[test]
    fn missing_duplicate_or_odd_declarations_are_refused() {
        let hash = "b".repeat(64);
        let missing = nil_manifest().replace("let releaseChecksum: String? = nil\n", "");
        assert!(error(check_text(&missing, URL, &hash)).contains("declares no"));
        let twice = format!("{}let releaseBindings: String? = nil\n", nil_manifest());
        assert!(error(check_text(&twice, URL, &hash)).contains("twice"));
        for odd in [
            "let releaseURL = \"x\"",
            "let releaseURL: String? = \"a\\(b)\"",
            "let releaseURL: String? = nil // later",
            "let releaseURL: String? = base + \"/x\"",
        ] {
            let text = nil_manifest().replace("let releaseURL: String? = nil", odd);
            let err = error(check_text(&text, URL, &hash));
            assert!(err.contains("expected `nil` or a string"), "{odd}: {err}");
        }
    }

    #[test]
    fn pinning_sets_the_three_constants_and_nothing_else() {
        let pin = Pin {
            url: URL.into(),
            checksum: "c".repeat(64),
            bindings: "b".repeat(64),
        };
        let text = nil_manifest();
        let out = pin_text(&text, &pin).unwrap();
        assert_eq!(out, pinned(&"b".repeat(64)));
        assert_eq!(parse(&out).unwrap(), Some(pin.clone()));
        check_text(&out, URL, &pin.bindings).unwrap();
        // A release commit is made once, from a manifest that pins nothing.
        let err = format!("{:#}", pin_text(&out, &pin).unwrap_err());
        assert!(err.contains("already pins"), "{err}");
        // Values that the check would refuse are not written.
        let bad = Pin {
            checksum: "not hex".into(),
            ..pin.clone()
        };
        assert!(pin_text(&text, &bad).is_err());
        let bad = Pin {
            url: "https://x/\"y".into(),
            ..pin
        };
        assert!(pin_text(&text, &bad).is_err());
    }

    #[test]
    fn the_bindings_hash_covers_every_file_with_its_path() -> Result<()> {
        let root = tempfile::tempdir()?;
        for path in generated::committed_paths() {
            let path = root.path().join(path);
            fs::create_dir_all(path.parent().context("no parent")?)?;
            fs::write(&path, "x")?;
        }
        let first = bindings_hash(root.path())?;
        assert!(is_sha256_hex(&first), "{first}");
        assert_eq!(bindings_hash(root.path())?, first);

        let [swift, header, _] = generated::committed_paths();
        fs::write(root.path().join(&header), "y")?;
        let changed = bindings_hash(root.path())?;
        assert_ne!(changed, first);

        let extra = swift.with_file_name("Extra.swift");
        fs::write(root.path().join(&extra), "")?;
        assert_ne!(bindings_hash(root.path())?, changed);
        fs::remove_file(root.path().join(&extra))?;
        assert_eq!(bindings_hash(root.path())?, changed);

        // The definition in the doc comment, where coreutils are at hand.
        if crate::ctx::have_tool("sha256sum") && crate::ctx::have_tool("find") {
            let script = "sha256sum $(find swift/Sources/MatrixMobileCore/Generated \
                          swift/Sources/MatrixMobileCoreFFI -type f | LC_ALL=C sort) | sha256sum";
            let out = std::process::Command::new("sh")
                .current_dir(root.path())
                .args(["-c", script])
                .output()?;
            let shell = String::from_utf8(out.stdout)?;
            assert_eq!(shell.split_whitespace().next(), Some(changed.as_str()));
        }

        fs::remove_file(root.path().join(&swift))?;
        assert!(format!("{:#}", bindings_hash(root.path()).unwrap_err())
            .contains(generated::REGENERATE));
        Ok(())
    }

    /// The repository's own manifest: nil, or a pin of this tree's bindings
    /// and this version (a release commit).
    #[test]
    fn the_repository_package_swift_passes() {
        check(&Ctx::new().unwrap()).unwrap();
    }
}
