//! `cargo xtask bench memory [--cycles N]`: what the heap keeps from one soak
//! cycle to the next, and whose code allocated it.
//!
//! The soak workload runs twice under heaptrack (Debian's `heaptrack`): a
//! short run of N/5 cycles and a long one of N (200 by default). What is
//! still allocated when a run ends holds what the process keeps for good
//! (statics, the runtime, logging) plus what each cycle left behind, so the
//! long run less the short run (`heaptrack_print --diff`) is what the extra
//! cycles kept. Each allocation's stack is charged to the innermost frame of
//! a known owner (this core, matrix-sdk, SQLite, tokio, HTTP/TLS, tracing),
//! past the generic frames (alloc, std, hashbrown) that every owner uses.
//!
//! Writes `target/bench/memory.json`: the cycles, the bytes left at the end
//! of each run, the growth per cycle, the growth by owner and the largest
//! sites. glibc's arenas and fragmentation are not heap allocations: the
//! soak's RSS growth beside this figure shows how much of it they take.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::{bench_dir, profile, stamp};
use crate::ctx::{self, Ctx};
use crate::synapse;

/// Cycles of the long run by default; the short run has a fifth of them.
pub(super) const DEFAULT_CYCLES: u32 = 200;

/// Frames that every owner allocates through; an owner is looked for past them.
const GENERIC: &[&str] = &[
    "alloc::",
    "<alloc::",
    "core::",
    "<core::",
    "std::",
    "<std::",
    "hashbrown::",
    "<hashbrown::",
    "__rust",
    "_rust",
    "malloc",
    "calloc",
    "realloc",
    "operator new",
    "smallvec::",
    "<smallvec::",
    "bytes::",
    "<bytes::",
    "serde",
    "<serde",
    "indexmap::",
    "<indexmap::",
];

/// Crate names as Rust's v0 mangling writes them (length-prefixed), for the
/// symbols heaptrack leaves mangled.
const GENERIC_MANGLED: &[&str] = &["5alloc", "4core", "3std", "9hashbrown"];

/// Whether `frame` belongs to code that every owner allocates through.
fn generic(frame: &str) -> bool {
    GENERIC.iter().any(|g| frame.starts_with(g))
        || (frame.starts_with("_R") && GENERIC_MANGLED.iter().any(|g| frame.contains(g)))
}

/// Owners by a symbol fragment, most specific first.
const OWNERS: &[(&str, &str)] = &[
    ("matrix_mobile_core", "matrix-mobile-core"),
    ("vodozemac", "matrix-sdk (crypto)"),
    ("matrix_sdk_crypto", "matrix-sdk (crypto)"),
    ("matrix_sdk_sqlite", "SQLite"),
    ("rusqlite", "SQLite"),
    ("deadpool", "SQLite"),
    ("sqlite3", "SQLite"),
    ("matrix_sdk", "matrix-sdk"),
    ("ruma", "matrix-sdk"),
    ("eyeball", "matrix-sdk"),
    ("tokio", "tokio"),
    ("reqwest", "HTTP/TLS"),
    ("hyper", "HTTP/TLS"),
    ("h2::", "HTTP/TLS"),
    ("rustls", "HTTP/TLS"),
    ("aws_lc", "HTTP/TLS"),
    ("tracing", "tracing"),
    ("uniffi", "UniFFI"),
    ("libc.so", "libc"),
    ("ld-linux", "libc"),
    ("_dl_", "libc"),
];

/// `cargo xtask bench memory [--cycles N]`, N at least 5.
pub fn run(ctx: &Ctx, cycles: u32) -> Result<()> {
    for tool in ["heaptrack", "heaptrack_print"] {
        if !ctx::have_tool(tool) {
            bail!("`cargo xtask bench memory` needs `{tool}` (Debian: apt-get install heaptrack)");
        }
    }
    let exe = ctx.build_example(profile(), "bench_soak")?;
    let dir = bench_dir(ctx)?.join("memory");
    std::fs::create_dir_all(&dir)?;
    let machine = stamp::machine();
    let short = (cycles / 5).max(1);
    let server = synapse::start(ctx)?;
    let runs = [short, cycles].map(|n| record(&exe, &dir, n, &server.url));
    drop(server);
    let [short_file, long_file] = runs;
    let (short_file, long_file) = (short_file?, long_file?);

    let short_left = summary(&short_file)?;
    let long_left = summary(&long_file)?;
    let stacks = dir.join("growth.stacks");
    ctx::run(
        Command::new("heaptrack_print")
            .arg("-f")
            .arg(&long_file)
            .arg("-d")
            .arg(&short_file)
            .args([
                "--print-peaks=0",
                "--print-allocators=0",
                "--print-temporary=0",
            ])
            .args(["--print-leaks=0", "--flamegraph-cost-type", "leaked", "-F"])
            .arg(&stacks)
            .stdout(std::process::Stdio::null()),
    )?;
    let (by_owner, sites) = attribute(&std::fs::read_to_string(&stacks)?);
    let extra = f64::from(cycles - short);
    let growth: i64 = by_owner.values().sum();
    let kib = |bytes: i64| (bytes as f64 / 1024.0 * 100.0).round() / 100.0;

    println!(
        "heap left at the end: {short} cycles {:.2} MiB, {cycles} cycles {:.2} MiB",
        short_left.leaked_mib, long_left.leaked_mib
    );
    println!(
        "kept per cycle: {:.2} KiB (heaptrack diff over {extra} cycles)",
        growth as f64 / 1024.0 / extra
    );
    for (owner, bytes) in &by_owner {
        println!(
            "  {owner:<22} {:>10.2} KiB per cycle",
            *bytes as f64 / 1024.0 / extra
        );
    }
    let report = json!({
        "cycles_short": short,
        "cycles": cycles,
        "heap_left_short_mib": short_left.leaked_mib,
        "heap_left_long_mib": long_left.leaked_mib,
        "heap_peak_long_mib": long_left.peak_mib,
        "kept_per_cycle_kib": kib(growth) / extra,
        "kept_per_cycle_kib_by_owner": by_owner
            .iter()
            .map(|(owner, bytes)| (owner.clone(), json!(kib(*bytes) / extra)))
            .collect::<serde_json::Map<_, _>>(),
        "largest_sites": sites
            .iter()
            .take(8)
            .map(|(frame, owner, bytes)| json!({
                "frame": frame,
                "owner": owner,
                "kib_per_cycle": kib(*bytes) / extra,
            }))
            .collect::<Vec<_>>(),
    });
    let out = bench_dir(ctx)?.join("memory.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")?;
    stamp::stamp(
        &out,
        &format!("cargo xtask bench memory --cycles {cycles}"),
        machine,
    )?;
    println!("written to {}", out.display());
    Ok(())
}

/// Runs the soak for `cycles` under heaptrack; returns heaptrack's file.
fn record(exe: &Path, dir: &Path, cycles: u32, url: &str) -> Result<PathBuf> {
    let base = dir.join(format!("soak-{cycles}"));
    for old in [base.with_extension("zst"), base.with_extension("gz")] {
        let _ = std::fs::remove_file(old);
    }
    ctx::run(
        Command::new("heaptrack")
            .arg("-o")
            .arg(&base)
            .arg(exe)
            .args(["--cycles", &cycles.to_string(), "--out"])
            .arg(dir.join(format!("soak-{cycles}.json")))
            .env("MMC_HOMESERVER_URL", url),
    )?;
    [base.with_extension("zst"), base.with_extension("gz")]
        .into_iter()
        .find(|f| f.is_file())
        .with_context(|| format!("heaptrack wrote no {}.zst or .gz", base.display()))
}

/// What heaptrack's summary says of one run.
struct Summary {
    leaked_mib: f64,
    peak_mib: f64,
}

fn summary(file: &Path) -> Result<Summary> {
    let output = Command::new("heaptrack_print")
        .arg("-f")
        .arg(file)
        .args([
            "--print-peaks=0",
            "--print-allocators=0",
            "--print-temporary=0",
        ])
        .arg("--print-leaks=0")
        .output()
        .context("running heaptrack_print")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |label: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(label))
            .and_then(|v| size_mib(v.trim()))
            .with_context(|| {
                format!(
                    "no `{label}` in heaptrack_print's summary of {}",
                    file.display()
                )
            })
    };
    Ok(Summary {
        leaked_mib: field("total memory leaked:")?,
        peak_mib: field("peak heap memory consumption:")?,
    })
}

/// heaptrack's sizes (`12B`, `3.40K`, `1.20M`, `2.00G`, powers of 1,000) in MiB.
fn size_mib(text: &str) -> Option<f64> {
    let (number, scale) = match text.chars().last()? {
        'B' => (&text[..text.len() - 1], 1.0),
        'K' => (&text[..text.len() - 1], 1e3),
        'M' => (&text[..text.len() - 1], 1e6),
        'G' => (&text[..text.len() - 1], 1e9),
        _ => (text, 1.0),
    };
    Some(number.parse::<f64>().ok()? * scale / (1024.0 * 1024.0))
}

/// One allocation site: its innermost non-generic frame, its owner, its bytes.
type Site = (String, String, i64);

/// Charges each stack's bytes to its owner; returns the bytes by owner and
/// the sites, largest first.
fn attribute(stacks: &str) -> (BTreeMap<String, i64>, Vec<Site>) {
    let mut by_owner: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_site: BTreeMap<(String, String), i64> = BTreeMap::new();
    for line in stacks.lines() {
        let Some((stack, cost)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(bytes) = cost.trim().parse::<i64>() else {
            continue;
        };
        if bytes == 0 {
            continue;
        }
        let frames: Vec<&str> = stack.trim_end_matches(';').split(';').collect();
        let specific = frames
            .iter()
            .rev()
            .find(|f| !generic(f))
            .copied()
            .unwrap_or("?");
        let owner = frames
            .iter()
            .rev()
            .find_map(|f| OWNERS.iter().find(|(pat, _)| f.contains(pat)))
            .map_or("other", |(_, owner)| owner);
        *by_owner.entry(owner.to_owned()).or_default() += bytes;
        *by_site
            .entry((short_frame(specific), owner.to_owned()))
            .or_default() += bytes;
    }
    let mut sites: Vec<Site> = by_site
        .into_iter()
        .map(|((frame, owner), bytes)| (frame, owner, bytes))
        .collect();
    sites.sort_by_key(|(_, _, bytes)| std::cmp::Reverse(bytes.abs()));
    (by_owner, sites)
}

/// A frame without its hash suffix and shortened to 120 characters.
fn short_frame(frame: &str) -> String {
    let frame = frame.split("::h").next().unwrap_or(frame);
    frame.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_in_powers_of_a_thousand() {
        assert_eq!(size_mib("1048576B"), Some(1.0));
        assert!((size_mib("2.00M").unwrap() - 2e6 / 1048576.0).abs() < 1e-9);
        assert_eq!(size_mib("junk"), None);
    }

    #[test]
    fn a_stack_is_charged_to_its_innermost_known_owner() {
        let stacks =
            "main;matrix_sdk::Client::new;matrix_mobile_core::client::x;alloc::raw_vec::grow 100\n\
                      main;tokio::runtime::spawn;alloc::alloc::alloc 40\n\
                      main;something_else 0\n\
                      main;weird -8\n";
        let (owners, sites) = attribute(stacks);
        assert_eq!(owners["matrix-mobile-core"], 100);
        assert_eq!(owners["tokio"], 40);
        assert_eq!(owners["other"], -8);
        assert_eq!(sites[0].0, "matrix_mobile_core::client::x");
        assert_eq!(sites[1].0, "tokio::runtime::spawn");
    }
}
