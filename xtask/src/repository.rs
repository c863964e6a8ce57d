//! The project's URL comes from one place, `[workspace.package] repository`
//! in the root `Cargo.toml` (`Ctx::repository`): the xtask hands it to Maven
//! (`-Dmmc.repository`, the POM's `url`, `developer` and `scm`), Gradle reads
//! it from the manifest, and the release workflow refuses a tag pushed to
//! another repository. The published API docs live at the GitHub Pages site
//! of that repository ([`pages_url`]). [`check`] fails when a text that
//! states either by hand (README.md, Package.swift, every other Markdown file
//! of the tree) disagrees; `cargo test -p xtask` runs it, and so does
//! `release-local`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::ctx::Ctx;

/// The files that must link to the project (README.md also to its docs).
const REQUIRED: [&str; 2] = ["README.md", "Package.swift"];

/// Folders whose Markdown is not the project's own text: build output,
/// tool state, generated bindings.
const SKIPPED_DIRS: [&str; 4] = ["target", "generated", "build", "node_modules"];

/// Fails, naming each file and URL, when a link to the project or to its
/// published docs in README.md, Package.swift or any Markdown file of the
/// tree does not start with `Ctx::repository` or [`pages_url`] of it, when
/// README.md or Package.swift never links to the project, when README.md
/// never links to the docs, or when Package.swift's `releaseURL` is not one
/// of its release downloads.
pub fn check(ctx: &Ctx) -> Result<()> {
    let repository = ctx.repository()?;
    let pages = pages_url(&repository);
    let mut files: Vec<String> = REQUIRED.iter().map(|f| f.to_string()).collect();
    for path in markdown_files(&ctx.root)? {
        let rel = path
            .strip_prefix(&ctx.root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if !files.contains(&rel) {
            files.push(rel);
        }
    }
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(ctx.root.join(file))
            .with_context(|| format!("reading {file}"))?;
        let links = links(&repository, pages.as_deref(), file, &text);
        found.extend(links.problems);
        if REQUIRED.contains(&file.as_str()) && links.to_repository == 0 {
            found.push(format!("{file}: never links to {repository}"));
        }
        if file == "README.md" && links.to_pages == 0 {
            match &pages {
                Some(pages) => found.push(format!("{file}: never links to the docs at {pages}")),
                None => found.push(format!("{file}: {repository} has no GitHub Pages URL")),
            }
        }
    }
    if !found.is_empty() {
        bail!(
            "links disagree with `repository = \"{repository}\"` in Cargo.toml:\n  - {}",
            found.join("\n  - ")
        );
    }
    Ok(())
}

/// The GitHub Pages site of a GitHub repository, where the docs workflow
/// publishes the API docs: `https://OWNER.github.io/NAME/` for
/// `https://github.com/OWNER/NAME` (owner lower-cased, as GitHub serves it).
pub fn pages_url(repository: &str) -> Option<String> {
    let rest = repository.strip_prefix("https://github.com/")?;
    let (owner, name) = rest.trim_end_matches('/').split_once('/')?;
    if owner.is_empty() || name.is_empty() || name.contains('/') {
        return None;
    }
    Some(format!(
        "https://{}.github.io/{name}/",
        owner.to_ascii_lowercase()
    ))
}

/// Every `*.md` under `root`, outside hidden folders and [`SKIPPED_DIRS`].
fn markdown_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_str()) {
                    dirs.push(entry.path());
                }
            } else if kind.is_file() && name.ends_with(".md") {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The links of one file: how many go to the project and to its docs, and
/// what is wrong with the others that mean to.
struct Links {
    to_repository: usize,
    to_pages: usize,
    problems: Vec<String>,
}

/// The links to the project and its docs in `text`, the contents of `file`.
/// A GitHub or GitHub Pages URL means the project when it names
/// `matrix-mobile-core` or is followed by a `<placeholder>`.
fn links(repository: &str, pages: Option<&str>, file: &str, text: &str) -> Links {
    let mut links = Links {
        to_repository: 0,
        to_pages: 0,
        problems: Vec::new(),
    };
    for (line_no, line) in text.lines().enumerate() {
        for (url, next) in urls(line) {
            let ours = url.contains("matrix-mobile-core") || next == Some('<');
            let on_github = url.starts_with("https://github.com/");
            let on_pages = url
                .strip_prefix("https://")
                .and_then(|rest| rest.split('/').next())
                .is_some_and(|host| host.ends_with(".github.io"));
            // `https://<owner>.github.io/...`: a placeholder for the host.
            let placeholder_host = next == Some('<') && url.ends_with("://");
            if !ours || !(on_github || on_pages || placeholder_host) {
                continue;
            }
            if on_github && is_link_to(repository, url) {
                links.to_repository += 1;
            } else if on_pages && pages.is_some_and(|pages| is_page_of(pages, url)) {
                links.to_pages += 1;
            } else {
                let shown = if next == Some('<') {
                    format!("{url}<...")
                } else {
                    url.to_owned()
                };
                links
                    .problems
                    .push(format!("{file}:{}: {shown}", line_no + 1));
            }
        }
        if let Some(rest) = release_url(line) {
            let prefix = format!("{repository}/releases/download/");
            if !rest.starts_with(&prefix) {
                links.problems.push(format!(
                    "{file}:{}: releaseURL does not start with {prefix}",
                    line_no + 1
                ));
            }
        }
    }
    links
}

/// What is wrong with the links to the project in `text`, the contents of a
/// file that must link to it.
#[cfg(test)]
fn problems(repository: &str, file: &str, text: &str) -> Vec<String> {
    let mut links = links(repository, pages_url(repository).as_deref(), file, text);
    if links.to_repository == 0 {
        links
            .problems
            .push(format!("{file}: never links to {repository}"));
    }
    links.problems
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

/// Whether `url` is the docs site `pages` (ending in `/`) or a page under it.
fn is_page_of(pages: &str, url: &str) -> bool {
    url.starts_with(pages) || url == pages.trim_end_matches('/')
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
    fn the_pages_url_is_derived_from_the_repository() {
        assert_eq!(
            pages_url(REPO).as_deref(),
            Some("https://matrix-mobile-core.github.io/matrix-mobile-core/")
        );
        assert_eq!(
            pages_url("https://github.com/Some-Org/lib.rs/").as_deref(),
            Some("https://some-org.github.io/lib.rs/")
        );
        assert_eq!(pages_url("https://gitlab.com/a/b"), None);
        assert_eq!(pages_url("https://github.com/a"), None);
    }

    #[test]
    fn links_to_the_docs_elsewhere_are_named() {
        let pages = pages_url(REPO).unwrap();
        let text = format!(
            "{REPO}\n\
            [Kotlin]({pages}kotlin/index.html) and {pages}\n\
            https://other.github.io/matrix-mobile-core/python/\n\
            https://<owner>.github.io/matrix-mobile-core/\n\
            https://someone.github.io/unrelated/ is not ours\n"
        );
        let links = links(REPO, Some(&pages), "docs/X.md", &text);
        assert_eq!((links.to_repository, links.to_pages), (1, 2));
        assert_eq!(links.problems.len(), 2, "{:?}", links.problems);
        assert!(
            links.problems[0].starts_with("docs/X.md:3: https://other.github.io/"),
            "{:?}",
            links.problems
        );
        assert!(
            links.problems[1].starts_with("docs/X.md:4: https://<..."),
            "{:?}",
            links.problems
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
