//! `cargo xtask demo`: starts the local Synapse and runs the lifecycle demo
//! (`core/examples/demo.rs`) against it.

use std::process::Command;

use anyhow::Result;

use crate::ctx::{self, Ctx};
use crate::synapse;

pub fn run(ctx: &Ctx) -> Result<()> {
    ctx::run(
        Command::new(ctx::cargo())
            .current_dir(&ctx.root)
            .arg("build")
            .args(ctx::CORE_PACKAGES)
            .args(["--example", "demo"]),
    )?;
    let server = synapse::start(ctx)?;
    let demo = ctx.target_dir().join("debug").join("examples").join("demo");
    let result = ctx::run(Command::new(demo).env("MMC_HOMESERVER_URL", &server.url));
    drop(server);
    result
}
