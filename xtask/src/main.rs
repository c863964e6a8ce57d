//! `cargo xtask <command>`: the project's task runner.
//!
//! This file declares the command line (clap derives the parser and every
//! `--help` from these types, so the help cannot drift from the commands)
//! and dispatches; each command lives in a module of its own, which declares
//! its own options.

mod android;
mod apple;
mod bench;
mod bindings;
mod central;
mod ctx;
mod demo;
mod docs;
mod glibc;
mod jreleaser;
mod kotlin;
mod maven;
mod natives;
mod parallel;
mod python;
mod release;
mod repository;
mod shrink;
mod signing;
mod stress;
mod strip;
mod swift;
mod synapse;
mod test;
mod wheel;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

/// The project's task runner: builds, tests, benchmarks and releases.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// The lifecycle demo against a local Synapse.
    Demo,
    /// Every test suite: Rust, lifecycle stress, Python, Kotlin (JVM), Swift
    /// (Linux), consumers, docs; with names, only those suites.
    ///
    /// `release` (the consumers on the release-profile artifacts) runs only
    /// when named. Every suite runs even when an earlier one failed; the
    /// command fails if any did.
    Test(test::Args),
    /// The Kotlin (Dokka) and Python (pdoc) API docs as HTML, with an index.
    Docs(docs::Args),
    /// Benchmarks in the `bench-fast` profile; JSON goes to target/bench/,
    /// `report` turns it into docs/BENCHMARKS.md.
    ///
    /// Each bench but `report` runs against a fresh local Synapse; a size
    /// left out (--cycles, --rooms...) is the bench's own default.
    Bench(bench::Args),
    /// The release library's size and its largest crates (cargo-bloat), into
    /// target/bench/size.json.
    Size(bench::size::Args),
    /// Torture tests: the runtime-shutdown scenario, random lifecycle
    /// interleavings.
    #[command(
        subcommand,
        subcommand_value_name = "SCENARIO",
        subcommand_help_heading = "Scenarios"
    )]
    Stress(stress::Scenario),
    /// Every artifact this machine can build, each once, into DIR; signed by
    /// JReleaser and checked against Maven Central's rules.
    ///
    /// The wheel, core-jvm and core-android staged in DIR/maven, the
    /// XCFramework. `--publish` also uploads DIR/maven to Maven Central as
    /// one deployment.
    ReleaseLocal(release::Args),
    /// Checks DIR/maven (signed and validated by `release-local DIR`) again,
    /// then uploads and publishes it as it is (the release workflow).
    CentralUpload(release::UploadArgs),
    /// Generates bindings (library mode) from the debug cdylib.
    Bindings(bindings::Args),
    /// Regenerates the Swift bindings committed under swift/Sources/.
    SwiftBindings,
    /// The release commit: pins Package.swift to the XCFramework of this
    /// commit.
    SwiftPin(swift::pin::Args),
    /// Builds the Android AAR (needs the NDK and cargo-ndk).
    Android(android::Args),
    /// Builds the XCFramework (needs Xcode).
    Apple,
    /// Checks an XCTest run's output (the apple workflow's): every declared
    /// test ran, or skipped where that platform expects it; a skip is not a
    /// run.
    XctestCheck(swift::CheckArgs),
    /// Runs the test homeserver in the foreground.
    Synapse,
    /// uniffi-bindgen's `generate`, as maturin runs it for the wheel
    /// (`wheel.rs` puts it on maturin's PATH).
    #[command(name = "uniffi-bindgen", hide = true)]
    UniffiBindgen(bindings::MaturinArgs),
}

fn main() {
    let cli = Cli::parse();
    if let Err(err) = run(cli) {
        eprintln!("xtask: {err:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let Some(command) = cli.command else {
        Cli::command().print_help()?;
        return Ok(());
    };
    let ctx = ctx::Ctx::new()?;
    match command {
        Command::Demo => demo::run(&ctx),
        Command::Test(args) => test::run(&ctx, &args),
        Command::Docs(args) => docs::run(&ctx, args),
        Command::Bench(args) => bench::run(&ctx, args),
        Command::Size(args) => bench::size::run(&ctx, args),
        Command::Stress(scenario) => stress::run(&ctx, scenario),
        Command::ReleaseLocal(args) => release::run(&ctx, args),
        Command::CentralUpload(args) => release::upload(&ctx, args),
        Command::Bindings(args) => bindings::run(&ctx, args),
        Command::SwiftBindings => swift::write_bindings(&ctx),
        Command::SwiftPin(args) => swift::pin::write(&ctx, args),
        Command::Android(args) => android::run(&ctx, args),
        Command::Apple => apple::run(&ctx),
        Command::XctestCheck(args) => swift::check_log(&ctx, args),
        Command::Synapse => synapse::run_foreground(&ctx),
        Command::UniffiBindgen(args) => bindings::run_for_maturin(&ctx, args),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::{CommandFactory, Parser};

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_documented_command_line_parses() {
        for line in [
            "test",
            "test rust stress python kotlin swift consumers docs release",
            "test docs consumers",
            "docs",
            "docs out/docs",
            "bench lifecycle",
            "bench --profile release notification --runs 5",
            "bench soak --cycles 10",
            "bench scale --clients 3",
            "bench large --rooms 10",
            "bench idle --secs 5",
            "bench chat --cycles 2",
            "bench compare --cycles 2",
            "bench memory --cycles 5",
            "bench ffi",
            "bench --profile bench-small ffi",
            "bench --profile dev idle --secs 60",
            "bench memory --cycles 200",
            "bench report",
            "size",
            "size --profile bench-small",
            "stress runtime",
            "stress runtime --cycles 100 --plain-cycles 10",
            "stress lifecycle --iterations 5 --seed 7",
            "release-local dist",
            "release-local dist --profile dev --publish --jvm-natives natives",
            "release-local --profile dev dist",
            "central-upload dist",
            "bindings kotlin --out out",
            "swift-bindings",
            "swift-pin https://example.org/x.zip abc",
            "android",
            "android --publish repo",
            "apple",
            "xctest-check linux run.log",
            "xctest-check macos run.log",
            "xctest-check ios run.log",
            "synapse",
            "demo",
            "uniffi-bindgen generate --no-format --language python --out-dir o --config c --library l.so",
        ] {
            let args = std::iter::once("cargo xtask").chain(line.split(' '));
            if let Err(e) = Cli::try_parse_from(args) {
                panic!("`cargo xtask {line}` does not parse: {e}");
            }
        }
    }

    #[test]
    fn unknown_commands_and_arguments_fail() {
        for line in [
            "nothing",
            "test everything",
            "test --fast",
            "docs a b",
            "bench",
            "bench lifecycle --rooms 5",
            "bench lifecycle --cycles 0",
            "bench memory --cycles 4",
            "stress",
            "stress lifecycle --iterations many",
            "release-local",
            "release-local a b",
            "central-upload",
            "bindings java --out out",
            "bindings kotlin",
            "swift-pin url",
            "xctest-check windows run.log",
            "apple --now",
        ] {
            let args = std::iter::once("cargo xtask").chain(line.split(' '));
            assert!(
                Cli::try_parse_from(args).is_err(),
                "`cargo xtask {line}` parses"
            );
        }
    }
}
