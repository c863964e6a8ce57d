//! `cargo xtask docs [DIR]`: the API docs as HTML, in DIR (`target/docs` by
//! default):
//!
//! - `kotlin/`: Dokka's HTML (`dokka:dokka`, kotlin/pom.xml) over the sources
//!   that `core-jvm`'s jar is compiled from: the bindings generated from the
//!   debug cdylib and the hand-written layer of `kotlin/src/main/kotlin`;
//! - `python/`: pdoc over the package `matrix_mobile_core`, staged as the
//!   wheel lays it out (`python::stage_package`) and imported, so the pages
//!   show what an app imports, with the docstrings of the generated layer
//!   (the core's doc comments) and of the hand-written one;
//! - `index.html`, linking both and the project.
//!
//! Swift's docs are a DocC archive, which only Xcode builds: the Apple
//! workflow makes it (`.github/workflows/apple.yml`). `cargo xtask test docs`
//! builds everything here and checks it (`check`); the docs workflow
//! publishes DIR.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::ctx::{self, Ctx};
use crate::{bindings, kotlin, python};

/// pdoc's command line on the arguments after it (see its docstring).
const PDOC_RUN: &str = include_str!("pdoc_run.py");

/// The Kotlin page that must exist: the class every app starts from.
const KOTLIN_CLIENT_PAGE: &str = "core-jvm/dev.matrixmobilecore/-client/index.html";

/// The Python module's page (pdoc names it after the module).
const PYTHON_MODULE_PAGE: &str = "matrix_mobile_core.html";

/// Names the Python page must document (pdoc gives each an anchor).
const PYTHON_NAMES: [&str; 3] = ["Client", "ClientConfig", "get_notification"];

/// `cargo xtask docs [DIR]`.
#[derive(clap::Args)]
pub struct Args {
    /// Where the docs go (target/docs by default); only its `kotlin/`,
    /// `python/` and `index.html` are replaced.
    dir: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let dir = args.dir.unwrap_or_else(|| ctx.target_dir().join("docs"));
    let cdylib = ctx.build_core_debug()?;
    build(ctx, &cdylib, &dir)
}

/// Writes the Kotlin and Python docs and the index into `dir`, from the
/// bindings of `cdylib`, then checks them (`check`).
///
/// Only `dir/kotlin`, `dir/python` and `dir/index.html` are replaced; anything
/// else in `dir` is left alone.
pub fn build(ctx: &Ctx, cdylib: &Path, dir: &Path) -> Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    for part in ["kotlin", "python"] {
        let old = dir.join(part);
        if old.exists() {
            std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
        }
    }

    let t = Instant::now();
    kotlin_docs(ctx, cdylib, &dir.join("kotlin"))?;
    println!("docs: Kotlin (Dokka) in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    python_docs(ctx, cdylib, &dir.join("python"))?;
    println!("docs: Python (pdoc) in {:.1} s", t.elapsed().as_secs_f64());

    let index = index_html(&ctx.repository()?, &ctx.version()?);
    std::fs::write(dir.join("index.html"), index)
        .with_context(|| format!("writing {}", dir.join("index.html").display()))?;
    check(&dir)?;
    let (files, bytes) = size(&dir)?;
    println!(
        "docs: {} ({files} files, {:.1} MiB) in {:.1} s",
        dir.display(),
        bytes as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Dokka's HTML for the jar's sources: the bindings generated into
/// `kotlin/generated` (the second source root of the POM) and
/// `src/main/kotlin`. `generate-sources` adds that root; Dokka reads the
/// sources and the compile class path, so nothing is compiled.
fn kotlin_docs(ctx: &Ctx, cdylib: &Path, out: &Path) -> Result<()> {
    let project = kotlin::prepare(ctx, cdylib)?;
    let mut mvn = kotlin::maven(ctx, &project, cdylib)?;
    mvn.arg(format!("-Dmmc.dokka.dir={}", out.display()))
        .args(["generate-sources", "dokka:dokka"]);
    ctx::run(&mut mvn).context("docs: Dokka failed")
}

/// pdoc's HTML for the package as the wheel lays it out, with the library
/// that its generated module loads on import.
fn python_docs(ctx: &Ctx, cdylib: &Path, out: &Path) -> Result<()> {
    let python = python::ensure_venv(ctx)?;
    let generated = bindings::default_out(ctx, "python");
    std::fs::create_dir_all(&generated)?;
    bindings::generate(ctx, "python", &generated, cdylib)?;
    let package = python::stage_package(
        ctx,
        "docs",
        &generated.join("matrix_mobile_core.py"),
        cdylib,
    )?;
    // pdoc would take types from the stub by executing it, which a stub
    // need not allow (a data enum's variants subclass the class they are
    // nested in, a name not bound yet). The generated module and the
    // hand-written one carry their annotations themselves, so the pages
    // document the module as imported, without the stub.
    let stub = package.join("matrix_mobile_core").join("__init__.pyi");
    std::fs::remove_file(&stub).with_context(|| format!("removing {}", stub.display()))?;
    let output = Command::new(&python)
        .current_dir(&ctx.root)
        // pdoc's command line, but with the class lookups of Python before
        // 3.13 made linear (`pdoc_run.py`: 86 s here, 5 s with it).
        .args(["-c", PDOC_RUN])
        .args([
            // The doc comments of the core and the hand-written docstrings
            // are Markdown.
            "--docformat",
            "markdown",
            // The generated layer's source is FFI plumbing; its pages would
            // be mostly that.
            "--no-show-source",
            "--footer-text",
            "matrix-mobile-core",
            "--output-directory",
        ])
        .arg(out)
        .arg("matrix_mobile_core")
        .env("PYTHONPATH", &package)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .with_context(|| format!("could not start {}", python.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprint!("{}{stderr}", String::from_utf8_lossy(&output.stdout));
    if !output.status.success() {
        bail!("docs: pdoc failed with {}", output.status);
    }
    // pdoc goes on past a stub it cannot read or a docstring it cannot
    // render, and says so only on stderr: pages without those types or
    // texts are a failure here.
    if stderr.contains("Warn:") {
        bail!("docs: pdoc warned (above)");
    }
    Ok(())
}

/// Fails unless `dir` holds what `build` promises: the index, a Kotlin page
/// for `Client` that shows its members, and a Python module page that
/// documents `Client`, `ClientConfig` and `get_notification`.
pub fn check(dir: &Path) -> Result<()> {
    let read = |rel: &str| {
        let path = dir.join(rel);
        std::fs::read_to_string(&path)
            .with_context(|| format!("docs: {} is missing", path.display()))
    };
    let index = read("index.html")?;
    for link in ["kotlin/index.html", "python/index.html"] {
        if !index.contains(&format!("href=\"{link}\"")) {
            bail!("docs: index.html does not link {link}");
        }
    }
    read("kotlin/index.html")?;
    read("python/index.html")?;
    let client = read(&format!("kotlin/{KOTLIN_CLIENT_PAGE}"))?;
    for member in ["logout", "close"] {
        if !client.contains(member) {
            bail!("docs: the Kotlin page of Client does not mention `{member}`");
        }
    }
    let module = read(&format!("python/{PYTHON_MODULE_PAGE}"))?;
    for name in PYTHON_NAMES {
        if !module.contains(&format!("id=\"{name}\"")) {
            bail!("docs: the Python page does not document `{name}`");
        }
    }
    Ok(())
}

/// The landing page: what is in `dir` and where the rest is.
fn index_html(repository: &str, version: &str) -> String {
    let repository = escape(repository);
    let version = escape(version);
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>matrix-mobile-core {version}: API documentation</title>
<style>body {{ font-family: sans-serif; max-width: 40em; margin: 2em auto; padding: 0 1em; line-height: 1.5; }}</style>
</head>
<body>
<h1>matrix-mobile-core {version}</h1>
<p>API documentation of the bindings, built from the core's doc comments and the hand-written layers.</p>
<ul>
<li><a href="kotlin/index.html">Kotlin</a> (Android and the JVM; Dokka): <code>dev.matrixmobilecore</code></li>
<li><a href="python/index.html">Python</a> (pdoc): <code>matrix_mobile_core</code></li>
<li>Swift: a DocC archive, built by the Apple workflow on macOS and attached to its run as the artifact <code>MatrixMobileCore.doccarchive</code></li>
</ul>
<p>Source, guarantees and guides: <a href="{repository}">{repository}</a></p>
</body>
</html>
"#
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Files and bytes under `dir`.
fn size(dir: &Path) -> Result<(u64, u64)> {
    let mut files = 0;
    let mut bytes = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            let (f, b) = size(&entry.path())?;
            files += f;
            bytes += b;
        } else if kind.is_file() {
            files += 1;
            bytes += entry.metadata()?.len();
        }
    }
    Ok((files, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_links_both_parts_and_the_repository() {
        let html = index_html("https://example.org/a&b", "1.2.3");
        assert!(html.contains("href=\"kotlin/index.html\""));
        assert!(html.contains("href=\"python/index.html\""));
        assert!(html.contains("href=\"https://example.org/a&amp;b\""));
        assert!(html.contains("matrix-mobile-core 1.2.3"));
    }

    #[test]
    fn check_names_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let err = check(root).unwrap_err().to_string();
        assert!(err.contains("index.html is missing"), "{err}");

        std::fs::write(root.join("index.html"), index_html("https://x", "0")).unwrap();
        let client = root.join("kotlin").join(KOTLIN_CLIENT_PAGE);
        std::fs::create_dir_all(client.parent().unwrap()).unwrap();
        std::fs::write(root.join("kotlin/index.html"), "").unwrap();
        std::fs::write(&client, "fun logout() fun close()").unwrap();
        std::fs::create_dir_all(root.join("python")).unwrap();
        std::fs::write(root.join("python/index.html"), "").unwrap();
        let page = root.join("python").join(PYTHON_MODULE_PAGE);
        std::fs::write(
            &page,
            "<div id=\"Client\"></div><div id=\"ClientConfig\"></div>",
        )
        .unwrap();
        let err = check(root).unwrap_err().to_string();
        assert!(err.contains("`get_notification`"), "{err}");

        std::fs::write(
            &page,
            "<div id=\"Client\"></div><div id=\"ClientConfig\"></div><div id=\"get_notification\"></div>",
        )
        .unwrap();
        check(root).unwrap();
        std::fs::write(&client, "fun logout()").unwrap();
        let err = check(root).unwrap_err().to_string();
        assert!(err.contains("`close`"), "{err}");
    }
}
