//! `cargo xtask bench report`: redraws `docs/bench/*.png` from
//! `target/bench/*.json` and rewrites the figures section of
//! `docs/BENCHMARKS.md` (between its two markers; the rest is left alone).
//! A bench run smaller than its default size is labelled preliminary.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::plot;
use crate::ctx::Ctx;

const BEGIN: &str =
    "<!-- figures: begin (written by `cargo xtask bench report`; edits here are lost) -->";
const END: &str = "<!-- figures: end -->";

pub fn run(ctx: &Ctx) -> Result<()> {
    let bench = ctx.target_dir().join("bench");
    let docs = ctx.root.join("docs");
    let mut md = String::new();
    let mut found = 0;
    for (name, section) in [
        ("soak", soak as fn(&Value) -> Result<String>),
        ("compare", compare),
        ("scale", scale),
        ("chat", chat),
        ("large", large),
    ] {
        let path = bench.join(format!("{name}.json"));
        let Some(report) = read(&path)? else {
            writeln!(
                md,
                "### {name}\n\nNot run yet: `cargo xtask bench {name}`.\n"
            )?;
            continue;
        };
        found += 1;
        md += &section(&report)?;
        md += &provenance(&report);
        let png = docs.join("bench").join(format!("{name}.png"));
        match name {
            "soak" => plot::soak(&report, &png)?,
            "compare" => plot::compare(&report, &png)?,
            "scale" => plot::scale(&report, &png)?,
            "large" => plot::large(&report, &png)?,
            _ => plot::chat(&report, &png)?,
        }
        writeln!(md, "\n![{name}](bench/{name}.png)\n")?;
    }
    if let Some(report) = read(&bench.join("memory.json"))? {
        md += &memory(&report)?;
        md += &provenance(&report);
        md.push('\n');
    }
    if let Some(report) = read(&bench.join("size.json"))? {
        md += "### Library size\n\n";
        md += &super::size::table(&report);
        md.push('\n');
        md += &provenance(&report);
        md.push('\n');
    }
    for name in ["lifecycle", "ffi", "notification"] {
        if let Some(report) = read(&bench.join(format!("{name}.json")))? {
            if report.get("run").is_some() {
                md += &flat(name, &report)?;
                md += &provenance(&report);
                md.push('\n');
            }
        }
    }
    if found == 0 {
        bail!(
            "no soak, compare or scale JSON in {}: run `cargo xtask bench soak|compare|scale` first",
            bench.display()
        );
    }
    let doc = docs.join("BENCHMARKS.md");
    let text =
        std::fs::read_to_string(&doc).with_context(|| format!("reading {}", doc.display()))?;
    let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
        bail!(
            "{} lacks the figures markers:\n{BEGIN}\n{END}",
            doc.display()
        );
    };
    let updated = format!("{}{BEGIN}\n\n{md}{}", &text[..a], &text[b..]);
    std::fs::write(&doc, updated)?;
    println!(
        "rewrote the figures of {} and the plots in docs/bench/",
        doc.display()
    );
    Ok(())
}

fn read(path: &Path) -> Result<Option<Value>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?,
        )),
        Err(_) => Ok(None),
    }
}

fn num(report: &Value, key: &str) -> f64 {
    report.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// `> Preliminary ...` when the run was smaller than the bench's default.
fn preliminary(size: f64, default: f64, unit: &str, report: &Value) -> String {
    if size >= default {
        return String::new();
    }
    format!(
        "> **Preliminary:** {size} {unit} instead of the default {default}, on a machine busy with other builds (load average {} at the start). Rerun at full size on a quiet machine before quoting.\n\n",
        num(&report["run"]["machine"], "load_average_1m")
    )
}

fn soak(r: &Value) -> Result<String> {
    plot::require(r, &["cycles", "fds_first", "rss_growth_mib"], "soak.json")?;
    let cycles = num(r, "cycles");
    let mut s = format!(
        "### Soak: create, login, sync, send, logout\n\n{}",
        preliminary(cycles, 1000.0, "cycles", r)
    );
    s += "| figure | value | goal |\n| --- | --- | --- |\n";
    writeln!(
        s,
        "| open fds (whole process) after the first / last cycle | {} / {} | no growth |",
        num(r, "fds_first"),
        num(r, "fds_last")
    )?;
    writeln!(
        s,
        "| threads after the first / last cycle | {} / {} | no growth |",
        num(r, "threads_first"),
        num(r, "threads_last")
    )?;
    writeln!(
        s,
        "| RSS growth from cycle {} to {cycles} | {:+.1} MiB | ≤ 10 MiB from cycle 50 to 1,000 |",
        num(r, "rss_from_cycle"),
        num(r, "rss_growth_mib")
    )?;
    writeln!(
        s,
        "| runtime alive tasks after the first / last cycle | {} / {} | no growth |",
        num(r, "alive_tasks_first"),
        num(r, "alive_tasks_last")
    )?;
    writeln!(
        s,
        "| runtime alive tasks while the client is live, first / last cycle | {} / {} | no growth |",
        num(r, "alive_tasks_live_first"),
        num(r, "alive_tasks_live_last")
    )?;
    writeln!(
        s,
        "| store files left open under the data dirs | {} | 0 |",
        num(r, "store_files_left")
    )?;
    writeln!(s, "| panics | {} | 0 |", num(r, "panics"))?;
    writeln!(
        s,
        "| logout p50 / p95 (with the server round trip) | {:.1} / {:.1} ms | |",
        num(r, "logout_ms_p50"),
        num(r, "logout_ms_p95")
    )?;
    Ok(s + "\n")
}

fn compare(r: &Value) -> Result<String> {
    let cycles = num(r, "cycles");
    let mut s = format!(
        "### Teardowns side by side, {cycles} cycles each\n\n{}",
        preliminary(cycles, 200.0, "cycles", r)
    );
    s += "| teardown | fds leaked | threads leaked | store fds open when it returns, mean (max) | store fds open at the end | panics | ms p50 | ms p95 |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for variant in ["naive", "logout_only", "core"] {
        let e = &r[variant];
        if let Some(failed) = e.get("failed").and_then(Value::as_str) {
            writeln!(s, "| `{variant}` | {failed} | | | | | | |")?;
            continue;
        }
        writeln!(
            s,
            "| `{variant}` | {} | {} | {:.1} ({}) | {} | {} | {:.1} | {:.1} |",
            num(e, "fds_leaked"),
            num(e, "threads_leaked"),
            num(e, "store_fds_at_return_mean"),
            num(e, "store_fds_at_return_max"),
            num(e, "store_fds_open"),
            num(e, "panics"),
            num(e, "ms_p50"),
            num(e, "ms_p95")
        )?;
    }
    Ok(s + "\n")
}

fn scale(r: &Value) -> Result<String> {
    plot::require(
        r,
        &["clients", "logout_ms_p95_loaded", "shutdown_ms"],
        "scale.json",
    )?;
    let n = num(r, "clients");
    let single = num(r, "logout_ms_p95_single");
    let loaded = num(r, "logout_ms_p95_loaded");
    let mut s = format!(
        "### {n} clients in one process\n\n{}",
        preliminary(n, 50.0, "clients", r)
    );
    s += "| figure | value | goal |\n| --- | --- | --- |\n";
    writeln!(
        s,
        "| logout p50 / p95, one client alone ({} cycles) | {:.1} / {single:.1} ms | |",
        num(r, "single_cycles"),
        num(r, "logout_ms_p50_single")
    )?;
    writeln!(s, "| logout p50 / p95, one at a time while the others sync | {:.1} / {loaded:.1} ms ({:.2} × single) | ≤ 2 × single |", num(r, "logout_ms_p50_loaded"), loaded / single)?;
    writeln!(
        s,
        "| RSS per idle syncing client | {:.2} MiB | measured |",
        num(r, "rss_per_client_mib")
    )?;
    writeln!(s, "| `shutdown()` with {n} live clients | {:.0} ms ({} closed, {} tasks abandoned, {} threads left) | |", num(r, "shutdown_ms"), num(r, "shutdown_clients_closed"), num(r, "shutdown_tasks_abandoned"), num(r, "shutdown_threads_left"))?;
    writeln!(
        s,
        "| login p95 while bringing the clients up; all syncing after | {:.0} ms; {:.1} s | |",
        num(r, "login_ms_p95"),
        num(r, "all_syncing_s")
    )?;
    writeln!(
        s,
        "| clients not `Running` after idling | {} | 0 |",
        num(r, "clients_not_running")
    )?;
    writeln!(s, "| panics | {} | 0 |", num(r, "panics"))?;
    Ok(s + "\n")
}

/// The chat surface beside matrix-sdk-ui used directly, and the cycle run.
fn chat(r: &Value) -> Result<String> {
    plot::require(r, &["samples", "cycle_run", "ratio_goal"], "chat.json")?;
    let goal = num(r, "ratio_goal");
    let c = &r["cycle_run"];
    let cycles = num(c, "cycles");
    let mut s = format!(
        "### Chat: the core beside matrix-sdk-ui, {} samples ({} of a timeline's opening); {cycles} chat cycles\n\n{}",
        num(r, "samples"),
        num(r, "timeline_open_samples"),
        preliminary(cycles, 200.0, "cycles", r)
    );
    s += "| step | core p50 | core p95 | bare p95 | core / bare at p95 | goal |\n| --- | --- | --- | --- | --- | --- |\n";
    for (what, key) in [
        (
            "`timeline` + `observe` until the first `Reset`",
            "timeline_open",
        ),
        (
            "restore, then a fresh timeline paginating 100 events back",
            "paginate_100",
        ),
        (
            "restore on the existing data dir until the room list holds a room",
            "room_list_first",
        ),
    ] {
        let core = &r["core"][format!("{key}_ms")];
        let ratio = num(r, &format!("ratio_{key}_p95"));
        writeln!(
            s,
            "| {what} | {:.1} ms | {:.1} ms | {:.1} ms | {ratio:.2} {} | ≤ {goal} |",
            num(core, "p50"),
            num(core, "p95"),
            num(&r["bare"][format!("{key}_ms")], "p95"),
            if ratio <= goal { "✓" } else { "✗" }
        )?;
    }
    let echo = num(r, "echo_ms_p95");
    let echo_goal = num(r, "echo_goal_ms");
    s += "\n| figure | value | goal |\n| --- | --- | --- |\n";
    writeln!(
        s,
        "| local echo: `send_text` called until the listener sees it, p50 / p95 (bare: `send` until the stream yields it, p95) | {:.2} / {echo:.2} ms {} (bare {:.2} ms) | ≤ {echo_goal} ms |",
        num(r, "echo_ms_p50"),
        if echo <= echo_goal { "✓" } else { "✗" },
        num(r, "bare_echo_ms_p95")
    )?;
    writeln!(
        s,
        "| room list with `start_sync` awaited before `observe_room_list`, p95 | {:.1} ms | |",
        num(r, "room_list_after_start_sync_ms_p95")
    )?;
    writeln!(
        s,
        "| RSS per open timeline ({} on distinct rooms), core / bare | {} / {} KiB | measured |",
        num(r, "open_timelines"),
        num(r, "rss_per_open_timeline_kib"),
        num(r, "bare_rss_per_open_timeline_kib")
    )?;
    writeln!(
        s,
        "| events a pagination of 100 added, p50, core / bare | {} / {} | |",
        num(&r["core"], "paginate_cold_items_gained_p50"),
        num(&r["bare"], "paginate_cold_items_gained_p50")
    )?;
    writeln!(
        s,
        "| `timeline` + `observe` until the first `Reset`, bare polled on the calling thread (which the core never does), p95 | {:.1} ms | |",
        num(r, "bare_timeline_open_inline_ms_p95")
    )?;
    writeln!(
        s,
        "| the same pagination on a client that has the room's events in memory, p95, core / bare | {:.2} / {:.2} ms | |",
        num(r, "paginate_100_warm_ms_p95"),
        num(r, "bare_paginate_100_warm_ms_p95")
    )?;
    writeln!(
        s,
        "| cycles: open fds after the first / last | {} / {} | no growth |",
        num(c, "fds_first"),
        num(c, "fds_last")
    )?;
    writeln!(
        s,
        "| cycles: threads after the first / last | {} / {} | no growth |",
        num(c, "threads_first"),
        num(c, "threads_last")
    )?;
    writeln!(
        s,
        "| cycles: RSS growth from cycle {} to {cycles} | {:+.1} MiB | |",
        num(c, "rss_from_cycle"),
        num(c, "rss_growth_mib")
    )?;
    writeln!(
        s,
        "| cycles: store files open after logout (sum) / clients not dropped / tasks left behind (sum) | {} / {} / {} | 0 / 0 / 0 |",
        num(c, "store_files_open_after_total"),
        num(c, "clients_not_dropped"),
        num(c, "tasks_left_behind_total")
    )?;
    writeln!(s, "| cycles: panics | {} | 0 |", num(c, "panics"))?;
    writeln!(
        s,
        "| cycle (login over HTTP not counted) / its logout, p50 | {:.0} / {:.1} ms | |",
        num(&c["cycle_ms"], "p50"),
        num(&c["logout_ms"], "p50")
    )?;
    Ok(s + "\n")
}

/// What the heap keeps per soak cycle, by owner and by site.
fn large(r: &Value) -> Result<String> {
    plot::require(r, &["rooms", "core", "bare", "ratio_goal"], "large.json")?;
    let goal = num(r, "ratio_goal");
    let rooms = num(r, "rooms");
    let mut s = format!(
        "### A large account: {rooms} rooms signing in on a new device, the core beside matrix-sdk-ui\n\n{}",
        preliminary(rooms, 1000.0, "rooms", r)
    );
    s += "| figure | core | bare | core / bare | goal |\n| --- | --- | --- | --- | --- |\n";
    for (what, key, unit, goal) in [
        ("first room list of 50, ms", "first_page", "_ms", Some(goal)),
        ("every room listed, ms", "all_listed", "_ms", None),
        (
            "bytes received until then",
            "bytes_received",
            "",
            Some(goal),
        ),
        ("RSS then, MiB", "rss", "_mib", Some(goal)),
    ] {
        writeln!(
            s,
            "| {what} | {} | {} | {} | {} |",
            num(r, &format!("{key}{unit}")),
            num(r, &format!("bare_{key}{unit}")),
            num(r, &format!("ratio_{key}")),
            goal.map_or("".to_owned(), |g| format!("≤ {g}"))
        )?;
    }
    writeln!(
        s,
        "\n`rooms()` on the caller's thread with {rooms} rooms: p50 {} ms, p95 {} ms, max {} ms (goal: one frame, {} ms).\n",
        num(r, "rooms_call_ms_p50"),
        num(r, "rooms_call_ms_p95"),
        num(r, "rooms_call_ms_max"),
        num(r, "frame_ms")
    )?;
    Ok(s)
}

fn memory(r: &Value) -> Result<String> {
    plot::require(r, &["cycles", "kept_per_cycle_kib"], "memory.json")?;
    let mut s = format!(
        "### Memory: what the heap keeps per soak cycle (heaptrack)\n\n\
         The soak under heaptrack, {} and {} cycles; the long run less the short one.\n\n\
         | figure | value |\n| --- | --- |\n",
        num(r, "cycles_short"),
        num(r, "cycles")
    );
    writeln!(
        s,
        "| heap left at the end, {} / {} cycles | {:.2} / {:.2} MiB |",
        num(r, "cycles_short"),
        num(r, "cycles"),
        num(r, "heap_left_short_mib"),
        num(r, "heap_left_long_mib")
    )?;
    writeln!(
        s,
        "| heap kept per cycle | {:.2} KiB |",
        num(r, "kept_per_cycle_kib")
    )?;
    if let Some(owners) = r["kept_per_cycle_kib_by_owner"].as_object() {
        for (owner, kib) in owners {
            writeln!(
                s,
                "| … allocated by {owner} | {:.2} KiB |",
                kib.as_f64().unwrap_or(f64::NAN)
            )?;
        }
    }
    writeln!(
        s,
        "\n| largest sites | owner | KiB per cycle |\n| --- | --- | --- |"
    )?;
    for site in r["largest_sites"].as_array().into_iter().flatten() {
        writeln!(
            s,
            "| `{}` | {} | {:.2} |",
            site["frame"].as_str().unwrap_or("?").replace('|', "\\|"),
            site["owner"].as_str().unwrap_or("?"),
            num(site, "kib_per_cycle")
        )?;
    }
    Ok(s + "\n")
}

/// Every top-level number of a bench that has no section of its own.
fn flat(name: &str, r: &Value) -> Result<String> {
    let mut s = format!("### {name}\n\n| figure | value |\n| --- | --- |\n");
    if let Some(object) = r.as_object() {
        for (key, value) in object.iter().filter(|(_, v)| v.is_number()) {
            writeln!(s, "| `{key}` | {value} |")?;
        }
    }
    Ok(s + "\n")
}

/// The command, profile, date and machine a section's figures came from.
fn provenance(r: &Value) -> String {
    let run = &r["run"];
    let m = &run["machine"];
    format!(
        "`{}` · `{}` profile · {} · {} cores ({}), {} GiB · load average {} before, {} after\n",
        run["command"].as_str().unwrap_or("?"),
        run["profile"].as_str().unwrap_or("?"),
        run["date"].as_str().unwrap_or("?"),
        num(m, "cores"),
        m["cpu"].as_str().unwrap_or("?"),
        num(m, "memory_gib"),
        num(m, "load_average_1m"),
        num(run, "load_average_1m_after"),
    )
}
