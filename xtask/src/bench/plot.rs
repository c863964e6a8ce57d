//! Small PNG plots of the benches' JSON, drawn with plotters' bitmap backend
//! into a buffer and encoded with `png`. Text needs a TrueType font: the one
//! `MMC_PLOT_FONT` names, else fontconfig's sans-serif, else DejaVu Sans.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use serde_json::Value;

const FONT: &str = "sans-serif";
const COLORS: [RGBColor; 4] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
];

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// One named, coloured line of a chart.
type Line<'a> = (&'a str, &'a [f64], RGBColor);

/// The soak's four series, one panel each, over the cycles; the tasks panel
/// also shows the tasks while the client was live.
pub fn soak(report: &Value, out: &Path) -> Result<()> {
    let s = &report["series"];
    let fds = series(&s["fds"])?;
    let threads = series(&s["threads"])?;
    let rss = series(&s["rss_mib"])?;
    let after = series(&s["alive_tasks"])?;
    let live = series(&s["alive_tasks_live"]).unwrap_or_default();
    let panels: [(&str, Vec<Line>); 4] = [
        ("open fds after each cycle", vec![("fds", &fds, COLORS[0])]),
        (
            "threads after each cycle",
            vec![("threads", &threads, COLORS[1])],
        ),
        ("RSS (MiB) after each cycle", vec![("RSS", &rss, COLORS[2])]),
        (
            "runtime alive tasks",
            vec![
                ("after logout", &after, COLORS[3]),
                ("client live", &live, COLORS[0]),
            ],
        ),
    ];
    render(out, (900, 560), |root| {
        for (area, (title, data)) in root.split_evenly((2, 2)).iter().zip(&panels) {
            lines(area, title, "cycle", data, None)?;
        }
        Ok(())
    })
}

/// Open fds and threads over the cycles of each compared teardown.
pub fn compare(report: &Value, out: &Path) -> Result<()> {
    let variants = ["naive", "logout_only", "core"];
    render(out, (900, 320), |root| {
        let halves = root.split_evenly((1, 2));
        for (area, (title, key)) in halves.iter().zip([
            ("open fds after each teardown", "fds_series"),
            ("threads after each teardown", "threads_series"),
        ]) {
            let data: Vec<(&str, Vec<f64>, RGBColor)> = variants
                .iter()
                .enumerate()
                .filter_map(|(i, v)| Some((*v, series(&report[*v][key]).ok()?, COLORS[i])))
                .collect();
            let refs: Vec<Line> = data
                .iter()
                .map(|(n, s, c)| (*n, s.as_slice(), *c))
                .collect();
            lines(area, title, "cycle", &refs, None)?;
        }
        Ok(())
    })
}

/// Each logout's ms while the other clients sync, beside the single-client p95.
pub fn scale(report: &Value, out: &Path) -> Result<()> {
    let loaded = series(&report["series"]["logout_ms_loaded"])?;
    let single = report["logout_ms_p95_single"].as_f64().unwrap_or(0.0);
    let title = format!("logout ms, {} clients logging out one by one", loaded.len());
    render(out, (900, 320), |root| {
        lines(
            root,
            &title,
            "logout (live clients = clients - index)",
            &[("loaded", &loaded, COLORS[0])],
            Some(("2 x single-client p95", 2.0 * single)),
        )
    })
}

/// The chat bench: each step's samples, sorted, core beside bare (a curve
/// lower and to the right is faster); the echo against its goal; and the
/// cycle run's fds, threads and RSS.
pub fn chat(report: &Value, out: &Path) -> Result<()> {
    let sorted = |side: &str, key: &str| series(&report[side][key]["sorted"]);
    let pairs: Vec<(&str, Vec<f64>, Vec<f64>)> = [
        ("timeline open, ms (sorted samples)", "timeline_open_ms"),
        (
            "restore, paginate 100 events, ms (sorted)",
            "paginate_100_ms",
        ),
        (
            "room list of a restored session, ms (sorted)",
            "room_list_first_ms",
        ),
    ]
    .into_iter()
    .map(|(title, key)| Ok((title, sorted("core", key)?, sorted("bare", key)?)))
    .collect::<Result<_>>()?;
    let echo = sorted("core", "echo_ms")?;
    let bare_echo = sorted("bare", "echo_ms")?;
    let c = &report["cycle_run"]["series"];
    let (fds, threads, rss) = (
        series(&c["fds"])?,
        series(&c["threads"])?,
        series(&c["rss_mib"])?,
    );
    let goal = report["echo_goal_ms"].as_f64().unwrap_or(5.0);
    render(out, (900, 780), |root| {
        let areas = root.split_evenly((3, 2));
        for (area, (title, core, bare)) in areas.iter().zip(&pairs) {
            let data = [
                ("core", core.as_slice(), COLORS[0]),
                ("bare matrix-sdk-ui", bare.as_slice(), COLORS[1]),
            ];
            lines(area, title, "sample", &data, None)?;
        }
        lines(
            &areas[3],
            "local echo, ms (sorted samples)",
            "sample",
            &[
                ("core", &echo, COLORS[0]),
                ("bare matrix-sdk-ui", &bare_echo, COLORS[1]),
            ],
            Some(("goal", goal)),
        )?;
        lines(
            &areas[4],
            "cycle run: fds and threads after each cycle",
            "cycle",
            &[("fds", &fds, COLORS[2]), ("threads", &threads, COLORS[3])],
            None,
        )?;
        lines(
            &areas[5],
            "cycle run: RSS (MiB)",
            "cycle",
            &[("RSS", &rss, COLORS[2])],
            None,
        )
    })
}

/// The large-account bench: the room list's length while it fills, core
/// beside bare; and each `rooms()` call on the caller's thread, sorted,
/// against one frame.
pub fn large(report: &Value, out: &Path) -> Result<()> {
    let core = series(&report["core"]["growth"])?;
    let bare = series(&report["bare"]["growth"])?;
    let calls = series(&report["core"]["rooms_call_ms"]["sorted"])?;
    let frame = report["frame_ms"].as_f64().unwrap_or(16.0);
    let step = report["growth_step_ms"].as_f64().unwrap_or(100.0);
    let title = format!("rooms listed after sign-in, every {step} ms");
    render(out, (900, 320), |root| {
        let halves = root.split_evenly((1, 2));
        lines(
            &halves[0],
            &title,
            "step",
            &[
                ("core", &core, COLORS[0]),
                ("bare matrix-sdk-ui", &bare, COLORS[1]),
            ],
            None,
        )?;
        lines(
            &halves[1],
            "rooms() on the caller's thread, ms (sorted)",
            "call",
            &[("core", &calls, COLORS[0])],
            Some(("one frame", frame)),
        )
    })
}

/// One line chart in `area`, starting at x = 1, with a legend and an
/// optional dashed reference level.
fn lines(
    area: &Area,
    title: &str,
    x_desc: &str,
    data: &[Line],
    level: Option<(&str, f64)>,
) -> Result<()> {
    let len = data
        .iter()
        .map(|(_, s, _)| s.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let mut top = data
        .iter()
        .flat_map(|(_, s, _)| s.iter().copied())
        .fold(level.map_or(0.0, |(_, v)| v), f64::max);
    top = if top <= 0.0 { 1.0 } else { top * 1.1 };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 16))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(1f64..len as f64, 0f64..top)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .label_style((FONT, 12))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (name, ys, color) in data {
        let points = ys.iter().enumerate().map(|(i, y)| (i as f64 + 1.0, *y));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    if let Some((name, y)) = level {
        let dashes = (0..(len * 2)).map(|i| {
            let x = 1.0 + i as f64 * 0.5;
            PathElement::new([(x, y), (x + 0.25, y)], BLACK.stroke_width(1))
        });
        chart
            .draw_series(dashes)
            .map_err(|e| anyhow!("{e}"))?
            .label(name)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK));
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.8))
        .border_style(RGBColor(0xaa, 0xaa, 0xaa))
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// A JSON array of numbers.
fn series(value: &Value) -> Result<Vec<f64>> {
    value
        .as_array()
        .context("a series is missing from the JSON")?
        .iter()
        .map(|v| v.as_f64().context("a series holds a non-number"))
        .collect()
}

/// Draws with `draw` on a white `size` canvas and writes it to `out` as PNG.
fn render(out: &Path, size: (u32, u32), draw: impl FnOnce(&Area) -> Result<()>) -> Result<()> {
    register_font()?;
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        draw(&root)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), size.0, size.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(())
}

/// Registers the TrueType font that plotters draws text with, once.
fn register_font() -> Result<()> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let path = font_path().ok_or_else(|| {
            "no TrueType font found: set MMC_PLOT_FONT to a .ttf file, or install fontconfig and a sans-serif font (Debian: fonts-dejavu-core)".to_owned()
        })?;
        let bytes = std::fs::read(&path).map_err(|e| format!("reading {path}: {e}"))?;
        plotters::style::register_font(FONT, FontStyle::Normal, Box::leak(bytes.into_boxed_slice()))
            .map_err(|_| format!("{path} is not a TrueType font that plotters can read"))
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

fn font_path() -> Option<String> {
    if let Ok(path) = std::env::var("MMC_PLOT_FONT") {
        return Some(path);
    }
    let from_fontconfig = Command::new("fc-match")
        .args([
            "-f",
            "%{file}",
            "sans-serif:style=Regular:fontformat=TrueType",
        ])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .filter(|p| p.ends_with(".ttf") && Path::new(p).exists());
    from_fontconfig.or_else(|| {
        let debian = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
        Path::new(debian).exists().then(|| debian.to_owned())
    })
}

/// Fails unless `report` holds every key in `keys`.
pub fn require(report: &Value, keys: &[&str], what: &str) -> Result<()> {
    for key in keys {
        if report.get(*key).is_none() {
            bail!("{what} has no `{key}`: rerun its bench");
        }
    }
    Ok(())
}
