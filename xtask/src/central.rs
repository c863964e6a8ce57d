//! Maven Central's rules, checked here: [`validate`] looks at a deployment
//! bundle (a directory in Maven layout) the way the Central Portal does
//! before it publishes, so that `release-local` fails on this machine, naming
//! the file and the rule, instead of the release failing on upload.
//!
//! JReleaser (`jreleaser.rs`) makes the signatures and the missing checksums
//! and checks that the sources and javadoc jars are there and, through
//! PomChecker where it can fetch it, the POMs; this checks the result on its
//! own, after it, and what JReleaser does not: that each signature verifies,
//! that the checksums the builds wrote match, what the sources and javadoc
//! jars hold, and the POM fields even where PomChecker was skipped.
//!
//! For every component (a directory holding `ARTIFACT-VERSION.pom`):
//!
//! - the files: the POM, the main file (`.jar`, or `.aar` for
//!   `<packaging>aar</packaging>`), `-sources.jar` with at least one `.kt` or
//!   `.java` file in it and `-javadoc.jar` with an `index.html` (rendered
//!   documentation, not an empty placeholder);
//! - beside each of them, `.md5` and `.sha1` (and any `.sha256`/`.sha512`
//!   present) whose digests match the file, and an `.asc` that `gpg
//!   --verify` accepts with the signer's keyring;
//! - the POM: `groupId`, `artifactId` and `version` matching the path,
//!   `name`, `description`, `url`, a license with `name` and `url`, a
//!   developer, `scm` with `url` and `connection`, and no `${` left outside
//!   comments.
//!
//! Checksums of the `.asc` files are optional (Central computes none of them
//! either), but checked when present. `maven-metadata.xml` is Central's own
//! business and is not looked at.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::signing::Signer;

/// The checksum files Central reads, and whether each is required.
const CHECKSUMS: [(&str, bool); 4] = [
    ("md5", true),
    ("sha1", true),
    ("sha256", false),
    ("sha512", false),
];

/// Checks the bundle at `dir` (Maven layout) against Central's rules, with
/// `signer`'s keyring for the signatures.
///
/// Returns the coordinates (`group:artifact:version`) of the components it
/// found. Fails with every problem found, one per line, each naming the file
/// and what is wrong; a directory without any POM fails too.
pub fn validate(dir: &Path, signer: &Signer) -> Result<Vec<String>> {
    let mut poms = Vec::new();
    find_poms(dir, &mut poms)?;
    poms.sort();
    if poms.is_empty() {
        bail!(
            "the Central bundle at {} holds no POM: no component to publish",
            dir.display()
        );
    }
    let mut problems = Vec::new();
    let mut found = Vec::new();
    for pom in &poms {
        match component(dir, pom, signer, &mut problems) {
            Ok(coordinates) => found.push(coordinates),
            Err(e) => problems.push(format!("{}: {e:#}", shown(dir, pom))),
        }
    }
    if !problems.is_empty() {
        let mut message = format!(
            "the Central bundle at {} breaks Central's rules:",
            dir.display()
        );
        for p in &problems {
            let _ = write!(message, "\n  - {p}");
        }
        bail!(message);
    }
    Ok(found)
}

/// Checks one component, the directory of `pom`; appends its problems.
fn component(
    root: &Path,
    pom: &Path,
    signer: &Signer,
    problems: &mut Vec<String>,
) -> Result<String> {
    let version_dir = pom.parent().context("a POM without a directory")?;
    let version = file_name(version_dir)?;
    let artifact_dir = version_dir.parent().context("no artifact directory")?;
    let artifact = file_name(artifact_dir)?;
    let group = artifact_dir
        .parent()
        .and_then(|g| g.strip_prefix(root).ok())
        .context("no group directory")?
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, ".");
    let base = format!("{artifact}-{version}");
    if file_name(pom)? != format!("{base}.pom") {
        problems.push(format!(
            "{}: a POM in {artifact}/{version}/ must be named {base}.pom",
            shown(root, pom)
        ));
        return Ok(format!("{group}:{artifact}:{version}"));
    }

    let text =
        std::fs::read_to_string(pom).with_context(|| format!("reading {}", pom.display()))?;
    let packaging = check_pom(&text, &group, &artifact, &version)
        .map_err(|e| problems.push(format!("{}: {e}", shown(root, pom))))
        .unwrap_or_else(|()| "jar".to_owned());

    // The files every component must have.
    let mut required = vec![format!("{base}.pom")];
    if packaging != "pom" {
        let ext = if packaging == "aar" { "aar" } else { "jar" };
        required.push(format!("{base}.{ext}"));
        required.push(format!("{base}-sources.jar"));
        required.push(format!("{base}-javadoc.jar"));
    }
    for name in &required {
        if !version_dir.join(name).is_file() {
            problems.push(format!(
                "{}: missing (Central requires it)",
                shown(root, &version_dir.join(name))
            ));
        }
    }
    let sources = version_dir.join(format!("{base}-sources.jar"));
    if sources.is_file() {
        let listing = jar_listing(&sources)?;
        if !listing
            .iter()
            .any(|e| e.ends_with(".kt") || e.ends_with(".java"))
        {
            problems.push(format!(
                "{}: holds no .kt or .java file",
                shown(root, &sources)
            ));
        }
        // A sources jar is sources: a native library there (maven-source-plugin
        // packs the resources unless told not to) only makes it tens of MiB.
        if let Some(native) = listing.iter().find(|e| is_native_library(e)) {
            problems.push(format!(
                "{}: holds the native library {native}",
                shown(root, &sources)
            ));
        }
    }
    let javadoc = version_dir.join(format!("{base}-javadoc.jar"));
    if javadoc.is_file() && !jar_listing(&javadoc)?.iter().any(|e| e == "index.html") {
        problems.push(format!(
            "{}: holds no index.html (no rendered documentation)",
            shown(root, &javadoc)
        ));
    }

    // Every file: checksums and a signature.
    let mut files: Vec<PathBuf> = std::fs::read_dir(version_dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.sort();
    for file in &files {
        let name = file_name(file)?;
        if !file.is_file() || is_sidecar(&name) && !name.ends_with(".asc") {
            continue;
        }
        let signature = name.ends_with(".asc");
        for (algorithm, required) in CHECKSUMS {
            let sum_file = version_dir.join(format!("{name}.{algorithm}"));
            if !sum_file.is_file() {
                if required && !signature {
                    problems.push(format!(
                        "{}: missing .{algorithm} checksum",
                        shown(root, file)
                    ));
                }
                continue;
            }
            let stated = std::fs::read_to_string(&sum_file)?;
            let stated = stated
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_lowercase();
            let actual = digest(algorithm, &std::fs::read(file)?);
            if stated != actual {
                problems.push(format!(
                    "{}: states {stated:?}, but the file's {algorithm} is {actual}",
                    shown(root, &sum_file)
                ));
            }
        }
        if signature {
            continue;
        }
        let asc = version_dir.join(format!("{name}.asc"));
        if !asc.is_file() {
            problems.push(format!("{}: missing .asc signature", shown(root, file)));
        } else if let Err(e) = signer.verify(&asc, file) {
            problems.push(format!(
                "{}: not a valid signature of {name}: {e}",
                shown(root, &asc)
            ));
        }
    }
    Ok(format!("{group}:{artifact}:{version}"))
}

/// Checks the fields Central requires of a POM; returns its packaging.
pub(crate) fn check_pom(
    pom: &str,
    group: &str,
    artifact: &str,
    version: &str,
) -> Result<String, String> {
    let pom = without_comments(pom);
    let mut missing = Vec::new();
    if pom.contains("${") {
        let at = pom.find("${").unwrap_or(0);
        let property: String = pom[at..].chars().take_while(|c| *c != '}').collect();
        missing.push(format!("an unresolved property {property}}}"));
    }
    // The project's own elements: those outside <parent>, <dependencies>,
    // <build>, <profiles>...; `plain` is also without the sections that have
    // a <url> or <name> of their own.
    let own = without_sections(&pom, &OTHER_SECTIONS);
    let plain = without_sections(&own, &NAMED_SECTIONS);
    let expect = |tag: &str, want: &str, missing: &mut Vec<String>| match element(&plain, tag) {
        Some(v) if v == want => {}
        Some(v) => missing.push(format!("<{tag}> is {v:?}, but the path says {want:?}")),
        None => missing.push(format!("no <{tag}>")),
    };
    expect("groupId", group, &mut missing);
    expect("artifactId", artifact, &mut missing);
    expect("version", version, &mut missing);
    for tag in ["name", "description", "url"] {
        if element(&plain, tag).is_none_or(|v| v.is_empty()) {
            missing.push(format!("no <{tag}>"));
        }
    }
    match element(&own, "licenses") {
        Some(licenses) if element(licenses, "license").is_some() => {
            let license = element(licenses, "license").unwrap_or_default();
            for tag in ["name", "url"] {
                if element(license, tag).is_none_or(|v| v.is_empty()) {
                    missing.push(format!("no <{tag}> in <license>"));
                }
            }
        }
        _ => missing.push("no <licenses><license>".to_owned()),
    }
    match element(&own, "developers").and_then(|d| element(d, "developer")) {
        Some(dev) if element(dev, "name").or(element(dev, "id")).is_some() => {}
        _ => missing.push("no <developers><developer> with a <name> or <id>".to_owned()),
    }
    match element(&own, "scm") {
        Some(scm) => {
            for tag in ["url", "connection"] {
                if element(scm, tag).is_none_or(|v| v.is_empty()) {
                    missing.push(format!("no <{tag}> in <scm>"));
                }
            }
        }
        None => missing.push("no <scm>".to_owned()),
    }
    if missing.is_empty() {
        Ok(element(&plain, "packaging").unwrap_or("jar").to_owned())
    } else {
        Err(missing.join("; "))
    }
}

/// The sections of a POM whose elements are not the project's own.
const OTHER_SECTIONS: [&str; 7] = [
    "parent",
    "dependencies",
    "dependencyManagement",
    "build",
    "profiles",
    "reporting",
    "distributionManagement",
];

/// The project's sections that have a `<name>` or `<url>` of their own.
const NAMED_SECTIONS: [&str; 8] = [
    "licenses",
    "developers",
    "contributors",
    "scm",
    "organization",
    "issueManagement",
    "ciManagement",
    "mailingLists",
];

/// `xml` without the `<tag>...</tag>` sections named.
fn without_sections(xml: &str, tags: &[&str]) -> String {
    let mut out = xml.to_owned();
    for tag in tags {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        while let Some(start) = out.find(&open) {
            let Some(end) = out[start..].find(&close) else {
                break;
            };
            out.replace_range(start..start + end + close.len(), "");
        }
    }
    out
}

/// The trimmed text between the first `<tag>` and the next `</tag>`.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))?;
    Some(xml[start..start + end].trim())
}

/// `xml` without its `<!-- -->` comments.
pub(crate) fn without_comments(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = match rest[start..].find("-->") {
            Some(end) => &rest[start + end + 3..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// The lowercase hex digest of `bytes` with `algorithm` (`md5`, `sha1`,
/// `sha256`, `sha512`).
pub(crate) fn digest(algorithm: &str, bytes: &[u8]) -> String {
    let raw: Vec<u8> = match algorithm {
        "md5" => Md5::digest(bytes).to_vec(),
        "sha1" => Sha1::digest(bytes).to_vec(),
        "sha256" => Sha256::digest(bytes).to_vec(),
        _ => Sha512::digest(bytes).to_vec(),
    };
    raw.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Writes `.md5`, `.sha1`, `.sha256` and `.sha512` beside `file`, as Maven
/// does: the hex digest alone. (The tests' bundles; Maven and Gradle write
/// the real ones.)
#[cfg(test)]
fn write_checksums(file: &Path) -> Result<()> {
    let bytes = std::fs::read(file)?;
    for (algorithm, _) in CHECKSUMS {
        let mut sum = file.as_os_str().to_owned();
        sum.push(format!(".{algorithm}"));
        std::fs::write(PathBuf::from(sum), digest(algorithm, &bytes))?;
    }
    Ok(())
}

fn is_native_library(entry: &str) -> bool {
    [".so", ".dylib", ".dll"]
        .iter()
        .any(|ext| entry.ends_with(ext))
}

/// Whether `name` is a signature or a checksum of another file.
pub(crate) fn is_sidecar(name: &str) -> bool {
    name.ends_with(".asc")
        || CHECKSUMS
            .iter()
            .any(|(a, _)| name.ends_with(&format!(".{a}")))
}

/// The entries of `jar` (`jar tf`).
pub(crate) fn jar_listing(jar: &Path) -> Result<Vec<String>> {
    let output = Command::new("jar")
        .arg("tf")
        .arg(jar)
        .output()
        .context("could not run `jar tf` (a JDK is needed)")?;
    if !output.status.success() {
        bail!("{} is not a readable jar", jar.display());
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

fn find_poms(dir: &Path, poms: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            find_poms(&path, poms)?;
        } else if path.extension().is_some_and(|e| e == "pom") {
            poms.push(path);
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> Result<String> {
    Ok(path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?
        .to_string_lossy()
        .into_owned())
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    const POM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- flattened from ${revision} -->
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.example</groupId>
  <artifactId>lib</artifactId>
  <version>1.0.0</version>
  <name>lib</name>
  <description>A library</description>
  <url>https://example.org/lib</url>
  <licenses><license><name>Apache-2.0</name><url>https://www.apache.org/licenses/LICENSE-2.0.txt</url></license></licenses>
  <developers><developer><name>Someone</name></developer></developers>
  <scm><url>https://example.org/lib</url><connection>scm:git:https://example.org/lib.git</connection></scm>
  <dependencies><dependency><groupId>g</groupId><artifactId>d</artifactId><version>2</version></dependency></dependencies>
</project>
"#;

    /// One key and one set of jars for every test (`gpg` and `jar` are slow
    /// to start); each test copies the bundle before it breaks it.
    struct Fixture {
        signer: Signer,
        bundle: tempfile::TempDir,
    }

    fn fixture() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(|| {
            let signer = Signer::throwaway().unwrap();
            let bundle = tempfile::tempdir().unwrap();
            let dir = component_dir(bundle.path());
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("lib-1.0.0.pom"), POM).unwrap();
            let content = tempfile::tempdir().unwrap();
            let c = content.path();
            std::fs::create_dir_all(c.join("classes/dev")).unwrap();
            std::fs::write(c.join("classes/dev/A.class"), b"\xca\xfe\xba\xbe").unwrap();
            std::fs::create_dir_all(c.join("sources/dev")).unwrap();
            std::fs::write(c.join("sources/dev/A.kt"), "package dev\nclass A\n").unwrap();
            std::fs::create_dir_all(c.join("docs")).unwrap();
            std::fs::write(c.join("docs/index.html"), "<html></html>").unwrap();
            for (jar, from) in [
                ("lib-1.0.0.jar", "classes"),
                ("lib-1.0.0-sources.jar", "sources"),
                ("lib-1.0.0-javadoc.jar", "docs"),
            ] {
                let status = Command::new("jar")
                    .arg("cf")
                    .arg(dir.join(jar))
                    .arg("-C")
                    .arg(c.join(from))
                    .arg(".")
                    .status()
                    .unwrap();
                assert!(status.success());
            }
            for name in [
                "lib-1.0.0.pom",
                "lib-1.0.0.jar",
                "lib-1.0.0-sources.jar",
                "lib-1.0.0-javadoc.jar",
            ] {
                write_checksums(&dir.join(name)).unwrap();
                signer.sign(&dir.join(name)).unwrap();
            }
            Fixture { signer, bundle }
        })
    }

    fn component_dir(root: &Path) -> PathBuf {
        root.join("dev/example/lib/1.0.0")
    }

    /// A copy of the valid bundle, to break.
    fn copy() -> tempfile::TempDir {
        let to = tempfile::tempdir().unwrap();
        let from = component_dir(fixture().bundle.path());
        let dir = component_dir(to.path());
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
        to
    }

    fn problems(bundle: &Path) -> String {
        format!("{:#}", validate(bundle, &fixture().signer).unwrap_err())
    }

    #[test]
    fn a_complete_signed_bundle_passes() {
        let bundle = copy();
        let found = validate(bundle.path(), &fixture().signer).unwrap();
        assert_eq!(found, ["dev.example:lib:1.0.0"]);
    }

    #[test]
    fn a_missing_signature_is_named() {
        let bundle = copy();
        std::fs::remove_file(component_dir(bundle.path()).join("lib-1.0.0-sources.jar.asc"))
            .unwrap();
        let said = problems(bundle.path());
        assert!(
            said.contains("lib-1.0.0-sources.jar: missing .asc signature"),
            "{said}"
        );
    }

    #[test]
    fn a_signature_of_other_bytes_is_refused() {
        let bundle = copy();
        let dir = component_dir(bundle.path());
        std::fs::copy(dir.join("lib-1.0.0.pom.asc"), dir.join("lib-1.0.0.jar.asc")).unwrap();
        let said = problems(bundle.path());
        assert!(
            said.contains("lib-1.0.0.jar.asc: not a valid signature"),
            "{said}"
        );
    }

    #[test]
    fn a_wrong_checksum_is_named() {
        let bundle = copy();
        let sha1 = component_dir(bundle.path()).join("lib-1.0.0.jar.sha1");
        std::fs::write(&sha1, "0000000000000000000000000000000000000000").unwrap();
        let said = problems(bundle.path());
        assert!(said.contains("lib-1.0.0.jar.sha1: states"), "{said}");
        assert!(!said.contains(".md5"), "only the sha1 is wrong: {said}");
    }

    #[test]
    fn a_missing_checksum_is_named() {
        let bundle = copy();
        std::fs::remove_file(component_dir(bundle.path()).join("lib-1.0.0.pom.md5")).unwrap();
        let said = problems(bundle.path());
        assert!(
            said.contains("lib-1.0.0.pom: missing .md5 checksum"),
            "{said}"
        );
    }

    #[test]
    fn a_pom_without_scm_is_refused() {
        let pom = POM.replace(
            "<scm><url>https://example.org/lib</url><connection>scm:git:https://example.org/lib.git</connection></scm>",
            "",
        );
        assert_ne!(pom, POM);
        assert_eq!(
            check_pom(&pom, "dev.example", "lib", "1.0.0").unwrap_err(),
            "no <scm>"
        );
        // And through the whole bundle, re-signed so that only the POM is wrong.
        let bundle = copy();
        let file = component_dir(bundle.path()).join("lib-1.0.0.pom");
        std::fs::write(&file, pom).unwrap();
        write_checksums(&file).unwrap();
        fixture().signer.sign(&file).unwrap();
        let said = problems(bundle.path());
        assert!(said.contains("lib-1.0.0.pom: no <scm>"), "{said}");
        assert_eq!(said.lines().count(), 2, "{said}");
    }

    #[test]
    fn pom_rules() {
        assert_eq!(
            check_pom(POM, "dev.example", "lib", "1.0.0").unwrap(),
            "jar"
        );
        let aar = POM.replace(
            "<version>1.0.0</version>",
            "<version>1.0.0</version><packaging>aar</packaging>",
        );
        assert_eq!(
            check_pom(&aar, "dev.example", "lib", "1.0.0").unwrap(),
            "aar"
        );
        let property = POM.replace(
            "<url>https://example.org/lib</url>\n",
            "<url>${mmc.repository}</url>\n",
        );
        assert!(check_pom(&property, "dev.example", "lib", "1.0.0")
            .unwrap_err()
            .contains("unresolved property ${mmc.repository}"));
        // A dependency's <version> is not the project's.
        let no_version = POM.replace("<version>1.0.0</version>", "");
        assert!(check_pom(&no_version, "dev.example", "lib", "1.0.0")
            .unwrap_err()
            .contains("no <version>"));
        assert!(check_pom(POM, "dev.example", "lib", "2.0.0")
            .unwrap_err()
            .contains("<version> is \"1.0.0\""));
        let no_developer = POM.replace(
            "<developers><developer><name>Someone</name></developer></developers>",
            "",
        );
        assert!(check_pom(&no_developer, "dev.example", "lib", "1.0.0")
            .unwrap_err()
            .contains("no <developers>"));
        let no_project_url = POM.replace("<url>https://example.org/lib</url>\n", "");
        assert!(check_pom(&no_project_url, "dev.example", "lib", "1.0.0")
            .unwrap_err()
            .contains("no <url>"));
        let no_license_url = POM.replace(
            "<url>https://www.apache.org/licenses/LICENSE-2.0.txt</url>",
            "",
        );
        assert!(check_pom(&no_license_url, "dev.example", "lib", "1.0.0")
            .unwrap_err()
            .contains("no <url> in <license>"));
    }

    /// Replaces `name` in a copy of the valid bundle with a jar of `files`
    /// (path, bytes), checksummed and signed like the rest; what is wrong
    /// with the bundle then.
    fn problems_with_jar(name: &str, files: &[(&str, &[u8])]) -> String {
        let bundle = copy();
        let content = tempfile::tempdir().unwrap();
        for (path, bytes) in files {
            let file = content.path().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, bytes).unwrap();
        }
        let jar = component_dir(bundle.path()).join(name);
        let status = Command::new("jar")
            .arg("cf")
            .arg(&jar)
            .arg("-C")
            .arg(content.path())
            .arg(".")
            .status()
            .unwrap();
        assert!(status.success());
        write_checksums(&jar).unwrap();
        fixture().signer.sign(&jar).unwrap();
        problems(bundle.path())
    }

    #[test]
    fn an_empty_javadoc_jar_is_refused() {
        let said = problems_with_jar("lib-1.0.0-javadoc.jar", &[("README", b"no docs")]);
        assert!(
            said.contains("lib-1.0.0-javadoc.jar: holds no index.html"),
            "{said}"
        );
    }

    #[test]
    fn a_native_library_in_the_sources_jar_is_refused() {
        let said = problems_with_jar(
            "lib-1.0.0-sources.jar",
            &[
                ("dev/A.kt", b"package dev\n"),
                ("linux-x86-64/libx.so", b"\x7fELF"),
            ],
        );
        assert!(
            said.contains("lib-1.0.0-sources.jar: holds the native library linux-x86-64/libx.so"),
            "{said}"
        );
    }

    #[test]
    fn digests_match_known_values() {
        assert_eq!(digest("md5", b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            digest("sha1", b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert!(digest("sha256", b"abc").starts_with("ba7816bf"));
        assert!(digest("sha512", b"abc").starts_with("ddaf35a1"));
    }
}
