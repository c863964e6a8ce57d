//! `cargo xtask bindings kotlin|swift|python --out DIR`: generates bindings in
//! library mode from the built cdylib, with `core/uniffi.toml`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use camino::Utf8PathBuf;
use uniffi_bindgen::bindings::{GenerateOptions, TargetLanguage};

use crate::ctx::Ctx;

/// The languages [`generate`] writes.
const LANGUAGES: [&str; 3] = ["kotlin", "swift", "python"];

/// `cargo xtask bindings kotlin|swift|python --out DIR`.
#[derive(clap::Args)]
pub struct Args {
    /// The language of the bindings.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(LANGUAGES))]
    language: String,
    /// Where they go (with the cdylib beside them, for Python).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let Args { language, out } = args;
    let cdylib = ctx.build_core_debug()?;
    generate(ctx, &language, &out, &cdylib)?;
    if language == "python" {
        // The generated module loads the library from its own folder.
        let name = cdylib.file_name().context("cdylib without a file name")?;
        std::fs::copy(&cdylib, out.join(name))?;
    }
    println!("{language} bindings written to {}", out.display());
    Ok(())
}

/// Generates `language` bindings for the core from `cdylib` into `out`
/// (a static library works too: `apple.rs` generates the Swift bindings from
/// one; the Kotlin and Python ones name the cdylib they load).
pub fn generate(ctx: &Ctx, language: &str, out: &Path, cdylib: &Path) -> Result<()> {
    let language = match language {
        "kotlin" => TargetLanguage::Kotlin,
        "swift" => TargetLanguage::Swift,
        "python" => TargetLanguage::Python,
        other => bail!("unknown language `{other}` (kotlin, swift or python)"),
    };
    let utf8 = |p: &Path| -> Result<Utf8PathBuf> {
        Utf8PathBuf::from_path_buf(p.to_path_buf())
            .map_err(|p| anyhow::anyhow!("not UTF-8: {}", p.display()))
    };
    // Cargo metadata (which finds `core/uniffi.toml`) runs in the current directory.
    std::env::set_current_dir(&ctx.root)?;
    uniffi_bindgen::bindings::generate(GenerateOptions {
        languages: vec![language],
        source: utf8(cdylib)?,
        out_dir: utf8(out)?,
        // `core/uniffi.toml` is found through cargo metadata (the crate's root).
        config_override: None,
        format: false,
        crate_filter: Some("matrix_mobile_core".into()),
        metadata_no_deps: true,
    })
    .with_context(|| format!("generating bindings from {}", cdylib.display()))
}

/// Where `cargo xtask test` puts generated bindings.
pub fn default_out(ctx: &Ctx, language: &str) -> PathBuf {
    ctx.target_dir().join("bindings").join(language)
}
