//! The floor of what a run must have done, not only survived: successful
//! chat calls of each kind and checked drains, per iteration. A run that
//! passes with every chat call refused (every one may fail with an allowed
//! error) proves nothing about the chat surface.

use serde_json::{json, Value};

use crate::tally::Tally;

/// Successful calls (or checks) of each kind, per 100 iterations, that a
/// run must reach: about a third of what runs of 200 iterations did over
/// several seeds (most of them from the scripted visits between bursts,
/// `chat.rs`), so that a run covers each kind without failing on an
/// unlucky seed. `send_text` comes from the random steps alone.
const FLOOR_PER_100: [(&str, f64); 11] = [
    ("timeline", 10.0),
    ("paginate_backwards", 4.0),
    ("timeline_send_text", 5.0),
    ("upload", 5.0),
    ("download_thumbnail", 5.0),
    ("observe_room", 3.0),
    ("send_message", 3.0),
    ("members", 3.0),
    ("set_room_notification_mode", 3.0),
    ("send_text", 1.0),
    ("drains_checked", 20.0),
];

pub struct Coverage {
    pub met: bool,
    pub json: Value,
}

/// What `t` covered in `iterations`, against the floor.
pub fn of(t: &Tally, iterations: u64) -> Coverage {
    let mut met = true;
    let mut kinds = serde_json::Map::new();
    for (kind, per_100) in FLOOR_PER_100 {
        let done = if kind == "drains_checked" {
            t.drains_checked
        } else {
            t.ops.get(kind).map_or(0, |c| c.ok)
        };
        let floor = (per_100 * iterations as f64 / 100.0).floor().max(1.0) as u64;
        met &= done >= floor;
        kinds.insert(kind.to_owned(), json!({"done": done, "floor": floor}));
    }
    Coverage {
        met,
        json: json!({"met": met, "kinds": kinds}),
    }
}

/// One line for the terminal.
pub fn line(json: &Value) -> String {
    let kinds = json["kinds"].as_object().cloned().unwrap_or_default();
    let parts: Vec<String> = kinds
        .iter()
        .map(|(kind, v)| format!("{kind} {}/{}", v["done"], v["floor"]))
        .collect();
    format!(
        "coverage ({}): {}",
        if json["met"].as_bool() == Some(true) {
            "met"
        } else {
            "UNDER THE FLOOR"
        },
        parts.join(", ")
    )
}
