//! `cargo xtask size [--profile P]`: how big the shipped library is, and
//! which crates make it so.
//!
//! Builds the core's library in profile P (`release` by default, what the
//! artifacts ship) with cargo-bloat, which attributes the `.text` section to
//! crates by symbol. cargo-bloat builds every crate type of the package
//! (`lib` and `cdylib`, unstripped), which keeps more code in the cdylib
//! than the shipped one has, so the size is then measured on the build the
//! artifacts come from: the cdylib alone (`--crate-type cdylib`, as maturin
//! builds it for the wheel and the jar), stripped as `release-local` does
//! (`strip.rs`). That copy's size is `library_bytes`; the crates' bytes are
//! of cargo-bloat's build (their shares, not the shipped sizes). Writes `target/bench/size.json` (`library_bytes`,
//! `unstripped_bytes`, `text_bytes`, `crates`: the largest, with their
//! bytes of `.text`) and a table on stdout; `cargo xtask bench report`
//! puts it in docs/BENCHMARKS.md.
//!
//! Needs cargo-bloat (`cargo install cargo-bloat --locked`); without it this
//! fails at once and says so. A release build takes 11 to 21 minutes here.

use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::stamp;
use crate::ctx::{self, Ctx};
use crate::strip;

/// The goal for the release library on x86_64 (issue: ≤ 22 MiB).
pub const GOAL_BYTES: u64 = 22 * 1024 * 1024;

/// How many crates the report lists.
const CRATES: usize = 25;

/// `cargo xtask size [--profile P]`.
#[derive(clap::Args)]
pub struct Args {
    /// The cargo profile to measure (release, bench-small, dev...).
    #[arg(long, value_name = "P", default_value = "release")]
    profile: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let profile = args.profile;
    if Command::new("cargo")
        .args(["bloat", "--version"])
        .output()
        .map_or(true, |o| !o.status.success())
    {
        bail!("size: cargo-bloat is missing; install it with `cargo install cargo-bloat --locked`");
    }
    let machine = stamp::machine();
    let output = Command::new("cargo")
        .current_dir(&ctx.root)
        .args(["bloat", "-p", "matrix-mobile-core", "--lib", "--profile"])
        .arg(&profile)
        .args(["--crates", "-n", &CRATES.to_string()])
        .args(["--message-format", "json"])
        .output()
        .context("could not run cargo bloat")?;
    if !output.status.success() {
        bail!(
            "cargo bloat failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let bloat: Value = serde_json::from_slice(&output.stdout)
        .context("cargo bloat's JSON (--message-format json)")?;
    ctx::run(
        Command::new(ctx::cargo())
            .current_dir(&ctx.root)
            .args(["rustc", "-p", "matrix-mobile-core", "--lib", "--profile"])
            .arg(&profile)
            .args(["--crate-type", "cdylib"]),
    )?;
    let cdylib = ctx.cdylib(ctx::profile_dir(&profile));
    let unstripped = std::fs::metadata(&cdylib)
        .with_context(|| format!("reading {}", cdylib.display()))?
        .len();
    let shipped = std::fs::metadata(strip::stripped_copy(&cdylib)?)?.len();
    let report = summary(&bloat, &profile, shipped, unstripped)?;

    print!("{}", table(&report));
    let out = super::bench_dir(ctx)?.join("size.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")?;
    stamp::stamp(
        &out,
        &format!("cargo xtask size --profile {profile}"),
        machine,
    )?;
    // The stamp names the benches' profile; this one was built in `profile`.
    let mut stamped: Value = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
    stamped["run"]["profile"] = json!(profile);
    std::fs::write(&out, serde_json::to_string_pretty(&stamped)? + "\n")?;
    println!("size: {}", out.display());
    Ok(())
}

/// The JSON report from cargo-bloat's output and the two file sizes.
fn summary(bloat: &Value, profile: &str, shipped: u64, unstripped: u64) -> Result<Value> {
    let crates = bloat["crates"]
        .as_array()
        .context("cargo bloat's JSON has no `crates`")?
        .iter()
        .map(|c| {
            Ok(json!({
                "name": c["name"].as_str().context("a crate without a name")?,
                "bytes": c["size"].as_u64().context("a crate without a size")?,
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({
        "profile": profile,
        "library_bytes": shipped,
        "library_mib": mib(shipped),
        "goal_bytes": GOAL_BYTES,
        "meets_goal": shipped <= GOAL_BYTES,
        "unstripped_bytes": unstripped,
        "text_bytes": bloat["text-section-size"].as_u64(),
        "crates": crates,
    }))
}

fn mib(bytes: u64) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 100.0).round() / 100.0
}

/// A markdown table of the report: the library, then its largest crates.
pub fn table(report: &Value) -> String {
    let bytes = |v: &Value| v.as_u64().unwrap_or(0);
    let mut s = format!(
        "The {} library: {} MiB stripped (goal ≤ {} MiB: {}), {} MiB before stripping.\n\n\
         | crate | `.text` KiB |\n| --- | ---: |\n",
        report["profile"].as_str().unwrap_or("?"),
        mib(bytes(&report["library_bytes"])),
        GOAL_BYTES / (1024 * 1024),
        if report["meets_goal"].as_bool() == Some(true) {
            "met"
        } else {
            "not met"
        },
        mib(bytes(&report["unstripped_bytes"])),
    );
    for c in report["crates"].as_array().into_iter().flatten() {
        s += &format!(
            "| {} | {} |\n",
            c["name"].as_str().unwrap_or("?"),
            bytes(&c["bytes"]) / 1024
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_takes_cargo_bloats_crates_and_judges_the_goal() {
        let bloat = json!({
            "file-size": 30_000_000u64,
            "text-section-size": 12_000_000u64,
            "crates": [
                { "name": "matrix_sdk_crypto", "size": 3_000_000u64 },
                { "name": "aws_lc_sys", "size": 2_000_000u64 },
            ],
        });
        let over = summary(&bloat, "release", GOAL_BYTES + 1, 30_000_000).unwrap();
        assert_eq!(over["meets_goal"], json!(false));
        assert_eq!(over["crates"][1]["name"], json!("aws_lc_sys"));
        assert_eq!(over["crates"][1]["bytes"], json!(2_000_000u64));
        let under = summary(&bloat, "release", GOAL_BYTES, 30_000_000).unwrap();
        assert_eq!(under["meets_goal"], json!(true));
        assert!(table(&under).contains("| matrix_sdk_crypto | 2929 |"));
        assert!(summary(&json!({}), "release", 1, 1).is_err());
    }
}
