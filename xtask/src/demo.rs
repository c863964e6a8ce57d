//! `cargo xtask demo`: starts the local Synapse and runs the lifecycle demo
//! (`core/examples/demo.rs`) against it.

use std::process::Command;

use anyhow::Result;

use crate::ctx::{self, Ctx};
use crate::synapse;

pub fn run(ctx: &Ctx) -> Result<()> {
    let demo = ctx.build_example("dev", "demo")?;
    let server = synapse::start(ctx)?;
    let result = ctx::run(Command::new(demo).env("MMC_HOMESERVER_URL", &server.url));
    drop(server);
    result
}
