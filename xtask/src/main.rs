//! `cargo xtask <command>`: the project's task runner.
//!
//! This file only dispatches; each command lives in a module of its own.

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

use anyhow::{bail, Result};

const USAGE: &str = "\
usage: cargo xtask <command>

  demo                         the lifecycle demo against a local Synapse
  test [SUITE...]              every test suite: Rust, lifecycle stress, Python, Kotlin (JVM), Swift (Linux),
                               consumers, docs; `test release`: the consumers on the release-profile artifacts
  docs [DIR]                   the Kotlin (Dokka) and Python (pdoc) API docs as HTML, with an index,
                               into DIR (target/docs by default)
  bench lifecycle|ffi          benchmarks; JSON goes to target/bench/
  bench soak [--cycles N] | compare [--cycles N] | scale [--clients N]
                               lifecycle soak, teardowns side by side, many clients
  bench report                 plots and figures of docs/BENCHMARKS.md from target/bench/
  size [--profile P]           the release library's size and its largest crates (cargo-bloat),
                               into target/bench/size.json
  stress runtime [--cycles N]  the runtime-shutdown seed scenario, plain vs supervised
  stress lifecycle [--iterations N] [--seed S]
                               random lifecycle interleavings against Synapse and faults
  release-local DIR [--profile P] [--publish] [--jvm-natives NATIVES]
                               every artifact this machine can build, each once (wheel, core-jvm and
                               core-android staged in DIR/maven, XCFramework); the staging directory
                               signed by JReleaser and checked against Maven Central's rules;
                               --publish also uploads it to Maven Central as one deployment;
                               NATIVES: the other platforms' libraries for core-jvm (NATIVES/<jna-prefix>/<lib>)
  central-upload DIR           check DIR/maven (signed and validated by release-local DIR) again and
                               upload and publish it as it is (the release workflow)
  bindings kotlin|swift|python --out DIR
  swift-bindings               regenerate the Swift bindings committed under swift/Sources/
  swift-pin URL CHECKSUM       the release commit: pin Package.swift to the XCFramework of this commit
  android [--publish DIR]      build the Android AAR (needs the NDK and cargo-ndk);
                               with --publish, core-android into the Maven repository DIR, unsigned
  apple                        build the XCFramework (needs Xcode)
  xctest-check linux|macos|ios LOG
                               check an XCTest run's output (the apple workflow's): every declared test
                               ran, or skipped where that platform expects it; a skip is not a run
  synapse                      run the test homeserver in the foreground
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(err) = run(&args) {
        eprintln!("xtask: {err:#}");
        std::process::exit(1);
    }
}

fn run(args: &[String]) -> Result<()> {
    let ctx = ctx::Ctx::new()?;
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("demo") => demo::run(&ctx),
        Some("test") => test::run(&ctx, rest),
        Some("docs") => docs::run(&ctx, rest),
        Some("bench") => bench::run(&ctx, rest),
        Some("size") => bench::size::run(&ctx, rest),
        Some("stress") => stress::run(&ctx, rest),
        Some("release-local") => release::run(&ctx, rest),
        Some("central-upload") => release::upload(&ctx, rest),
        Some("bindings") => bindings::run(&ctx, rest),
        Some("swift-bindings") => swift::write_bindings(&ctx),
        Some("swift-pin") => swift::pin::write(&ctx, rest),
        Some("android") => android::run(&ctx, rest),
        Some("apple") => apple::run(&ctx),
        Some("xctest-check") => swift::check_log(&ctx, rest),
        Some("synapse") => synapse::run_foreground(&ctx),
        Some("help") | Some("--help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}
