//! `cargo xtask stress runtime [--cycles N]`: the seed scenario in an
//! optimised build (profile `bench-fast`), plain drop against the supervisor.

use std::process::Command;

use anyhow::{bail, Result};

use crate::ctx::{self, Ctx};

pub fn run(ctx: &Ctx, args: &[String]) -> Result<()> {
    if args.first().map(String::as_str) != Some("runtime") {
        bail!("usage: cargo xtask stress runtime [--cycles N]");
    }
    let mut passed = vec!["--cycles".to_owned(), "10000".to_owned()];
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        match (arg.as_str(), rest.next()) {
            (flag @ ("--cycles" | "--plain-cycles"), Some(n)) if n.parse::<u64>().is_ok() => {
                passed.extend([flag.to_owned(), n.clone()])
            }
            _ => bail!("usage: cargo xtask stress runtime [--cycles N] [--plain-cycles N]"),
        }
    }
    let out = ctx.target_dir().join("bench").join("stress-runtime.json");
    ctx::run(
        Command::new(ctx::cargo())
            .current_dir(&ctx.root)
            .args([
                "run",
                "--profile",
                "bench-fast",
                "-p",
                "matrix-mobile-core",
                "--example",
                "stress_runtime",
                "--",
            ])
            .args(&passed)
            .arg("--out")
            .arg(&out),
    )
}
