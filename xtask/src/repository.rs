//! The project's URL comes from one place, `[workspace.package] repository`
//! in the root `Cargo.toml` (`Ctx::repository`): the xtask hands it to Maven
//! (`-Dmmc.repository`, the POM's `url`, `developer` and `scm`), Gradle reads
//! it from the manifest, and the release workflow refuses a tag pushed to
//! another repository. [`check`] fails when a text that states it by hand
//! (README.md, Package.swift) disagrees; `cargo test -p xtask` runs it, and so
//! does `release-local`.

use anyhow::{bail, Context, Result};

use crate::ctx::Ctx;

/// The files that write the project's URL out.
const FILES: [&str; 2] = ["README.md", "Package.swift"];

/// Fails, naming each file and URL, when a link to the project in README.md or
/// Package.swift does not start with `Ctx::repository`, or when Package.swift's
/// `releaseURL` is not one of its release downloads.
pub fn check(ctx: &Ctx) -> Result<()> {
    let repository = ctx.repository()?;
    let mut found = Vec::new();
    for file in FILES {
        let text = std::fs::read_to_string(ctx.root.join(file))
            .with_context(|| format!("reading {file}"))?;
        found.extend(problems(&repository, file, &text));
    }
    if !found.is_empty() {
        bail!(
            "links disagree with `repository = \"{repository}\"` in Cargo.toml:\n  - {}",
            found.join("\n  - ")
        );
    }
    Ok(())
}

/// What is wrong with the links to the project in `text`, the contents of `file`.
fn problems(repository: &str, file: &str, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut mentions = 0;
    for (line_no, line) in text.lines().enumerate() {
        for (url, next) in urls(line) {
            let ours = url.contains("matrix-mobile-core") || next == Some('<');
            if !url.starts_with("https://github.com/") || !ours {
                continue;
            }
            if is_link_to(repository, url) {
                mentions += 1;
            } else {
                let shown = if next == Some('<') {
                    format!("{url}<...")
                } else {
                    url.to_owned()
                };
                found.push(format!("{file}:{}: {shown}", line_no + 1));
            }
        }
        if let Some(rest) = release_url(line) {
            let prefix = format!("{repository}/releases/download/");
            if !rest.starts_with(&prefix) {
                found.push(format!(
                    "{file}:{}: releaseURL does not start with {prefix}",
                    line_no + 1
                ));
            }
        }
    }
    if mentions == 0 {
        found.push(format!("{file}: never links to {repository}"));
    }
    found
}

/// The text after the opening quote of a `releaseURL` set to a string, in
/// either form (`let releaseURL = "` or `let releaseURL: String? = "`).
/// `swift::pin` checks the whole value; this checks its repository.
fn release_url(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("let releaseURL")?.trim_start();
    let rest = rest.strip_prefix(": String?").unwrap_or(rest).trim_start();
    rest.strip_prefix('=')?.trim_start().strip_prefix('"')
}

/// Whether `url` is `repository` or a page under it.
fn is_link_to(repository: &str, url: &str) -> bool {
    url.strip_prefix(repository)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || rest == ".git")
}

/// The `http(s)://` URLs of `line`, each with the character after it.
fn urls(line: &str) -> Vec<(&str, Option<char>)> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("https://").or_else(|| rest.find("http://")) {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || "\"'<>()[]`,".contains(c))
            .unwrap_or(tail.len());
        out.push((&tail[..end], tail[end..].chars().next()));
        rest = &tail[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPO: &str = "https://github.com/matrix-mobile-core/matrix-mobile-core";

    #[test]
    fn the_readme_and_package_swift_agree_with_cargo_toml() {
        check(&Ctx::new().unwrap()).unwrap();
    }

    #[test]
    fn links_to_another_owner_or_a_placeholder_are_named() {
        let text = "see https://github.com/matrix-mobile-core/matrix-mobile-core/releases\n\
            .package(url: \"https://github.com/<owner>/matrix-mobile-core\", from: \"0.1.0\")\n\
            let releaseURL = \"https://github.com/OWNER/matrix-mobile-core/releases/download/v0.1.0/x.zip\"\n\
            and https://github.com/rustls/rustls-platform-verifier is not ours\n";
        let found = problems(REPO, "README.md", text);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("README.md:2: https://github.com/<..."),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("README.md:3: https://github.com/OWNER/"),
            "{found:?}"
        );
        assert!(
            found[2].contains("releaseURL does not start with"),
            "{found:?}"
        );
        // Package.swift's form: an optional, nil outside a release commit.
        let optional =
            "let releaseURL: String? = \"https://example.org/matrix-mobile-core/x.zip\"\n\
            let releaseURL: String? = nil\n";
        let found = problems(REPO, "Package.swift", &format!("{REPO}\n{optional}"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("Package.swift:2: releaseURL does not start with"),
            "{found:?}"
        );
    }

    #[test]
    fn a_file_that_never_links_to_the_project_is_named() {
        let found = problems(REPO, "README.md", "no links here\n");
        assert_eq!(found, ["README.md: never links to ".to_owned() + REPO]);
        assert!(problems(REPO, "README.md", &format!("({REPO}).\n")).is_empty());
        assert!(!problems(REPO, "x", &format!("{REPO}-fork\n")).is_empty());
    }
}
