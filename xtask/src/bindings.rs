//! `cargo xtask bindings kotlin|swift|python --out DIR`: generates bindings in
//! library mode from the built cdylib, with `core/uniffi.toml`.
//!
//! The same generator serves maturin, which runs `uniffi-bindgen generate`
//! to put the Python bindings into the wheel: [`MaturinArgs`] is the part of
//! uniffi-bindgen's command line that maturin uses, and `wheel.rs` puts a
//! `uniffi-bindgen` that runs it first on maturin's `PATH`. So the wheel's
//! module is the one every suite tests, and no second build of UniFFI's
//! command line (about 95 s in a fresh debug build) is needed for it.

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

/// `cargo xtask uniffi-bindgen generate --language L --out-dir D --library
/// LIB [--no-format] [--config F]`: what maturin's UniFFI mode runs.
#[derive(clap::Args)]
pub struct MaturinArgs {
    #[command(subcommand)]
    command: MaturinCommand,
}

#[derive(clap::Subcommand)]
enum MaturinCommand {
    /// Generates bindings from a built library.
    Generate {
        /// The language of the bindings.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(LANGUAGES))]
        language: String,
        /// Where they go.
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
        /// The library to read the UniFFI metadata from.
        #[arg(long, value_name = "LIB")]
        library: PathBuf,
        /// Accepted: the bindings are never formatted.
        #[arg(long)]
        no_format: bool,
        /// Accepted and ignored, as uniffi-bindgen 0.32 ignores the
        /// crate's own file there: `core/uniffi.toml` applies through cargo
        /// metadata.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// Runs what maturin asked for (see the module's documentation).
pub fn run_for_maturin(ctx: &Ctx, args: MaturinArgs) -> Result<()> {
    let MaturinCommand::Generate {
        language,
        out_dir,
        library,
        ..
    } = args.command;
    // maturin runs the generator in the crate's folder: relative paths are
    // from there, and `generate` changes the current directory.
    let cwd = std::env::current_dir()?;
    generate(ctx, &language, &cwd.join(out_dir), &cwd.join(library))
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
