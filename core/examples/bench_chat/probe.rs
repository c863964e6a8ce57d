//! Listeners that note when things happen, for the core's side: the list's
//! length (from the diffs alone), when the first `Reset` arrived, when the
//! list first held something, and when a message with a given body first
//! appeared (its local echo). The time is taken in the listener, on the
//! core's listener thread, so the bench's polling does not count.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use matrix_mobile_core::{
    MessageContent, RoomListListener, RoomListUpdate, TimelineItem, TimelineItemKind,
    TimelineListener, TimelineUpdate,
};

use crate::shared::fail;

#[derive(Default)]
struct Seen {
    len: usize,
    first_reset: Option<Instant>,
    non_empty: Option<Instant>,
    target: Option<String>,
    target_seen: Option<Instant>,
    closed: bool,
}

/// One probe serves a room list or a timeline.
#[derive(Default)]
pub struct Probe(Mutex<Seen>);

/// How a diff changes a list's length, and whether it is a `Reset`.
enum Step {
    Reset(usize),
    Add(usize),
    Remove(usize),
    Clear,
    Truncate(usize),
    Same,
}

impl Probe {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn apply(&self, steps: impl Iterator<Item = Step>, bodies: Vec<String>) {
        let now = Instant::now();
        let mut s = self.seen();
        for step in steps {
            match step {
                Step::Reset(n) => {
                    s.len = n;
                    s.first_reset.get_or_insert(now);
                }
                Step::Add(n) => s.len += n,
                Step::Remove(n) => s.len = s.len.saturating_sub(n),
                Step::Clear => s.len = 0,
                Step::Truncate(n) => s.len = s.len.min(n),
                Step::Same => {}
            }
        }
        if s.len > 0 && s.non_empty.is_none() {
            s.non_empty = Some(now);
        }
        if s.target_seen.is_none() && s.target.as_ref().is_some_and(|t| bodies.contains(t)) {
            s.target_seen = Some(now);
        }
    }

    /// Watches for a message whose body is `body` from now on.
    pub fn expect(&self, body: &str) {
        let mut s = self.seen();
        s.target = Some(body.to_owned());
        s.target_seen = None;
    }

    pub fn len(&self) -> usize {
        self.seen().len
    }

    /// Waits (at most 60 s) for the first `Reset`; returns when it arrived.
    pub fn first_reset(&self) -> Instant {
        wait_for("a first Reset", || self.seen().first_reset)
    }

    /// Waits (at most 60 s) until the list holds something.
    pub fn non_empty(&self) -> Instant {
        wait_for("a non-empty list", || self.seen().non_empty)
    }

    /// Waits (at most 60 s) for the message given to [`Probe::expect`].
    pub fn target_seen(&self) -> Instant {
        wait_for("the local echo", || self.seen().target_seen)
    }
}

fn wait_for(what: &str, mut get: impl FnMut() -> Option<Instant>) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(at) = get() {
            return at;
        }
        if Instant::now() > deadline {
            fail(&format!("no {what} within 60 s"));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn body(item: &TimelineItem) -> Option<String> {
    match &item.kind {
        TimelineItemKind::Event {
            content: MessageContent::Text { body, .. },
            ..
        } => Some(body.clone()),
        _ => None,
    }
}

impl TimelineListener for Probe {
    fn on_update(&self, updates: Vec<TimelineUpdate>) {
        let mut bodies = Vec::new();
        let steps: Vec<Step> = updates
            .iter()
            .map(|u| match u {
                TimelineUpdate::Reset { values } => {
                    bodies.extend(values.iter().filter_map(body));
                    Step::Reset(values.len())
                }
                TimelineUpdate::Append { values } => {
                    bodies.extend(values.iter().filter_map(body));
                    Step::Add(values.len())
                }
                TimelineUpdate::PushFront { value }
                | TimelineUpdate::PushBack { value }
                | TimelineUpdate::Insert { value, .. } => {
                    bodies.extend(body(value));
                    Step::Add(1)
                }
                TimelineUpdate::Set { value, .. } => {
                    bodies.extend(body(value));
                    Step::Same
                }
                TimelineUpdate::PopFront
                | TimelineUpdate::PopBack
                | TimelineUpdate::Remove { .. } => Step::Remove(1),
                TimelineUpdate::Clear => Step::Clear,
                TimelineUpdate::Truncate { length } => Step::Truncate(*length as usize),
            })
            .collect();
        self.apply(steps.into_iter(), bodies);
    }

    fn on_closed(&self) {
        self.seen().closed = true;
    }
}

impl RoomListListener for Probe {
    fn on_update(&self, updates: Vec<RoomListUpdate>) {
        let steps = updates.iter().map(|u| match u {
            RoomListUpdate::Reset { values } => Step::Reset(values.len()),
            RoomListUpdate::Append { values } => Step::Add(values.len()),
            RoomListUpdate::PushFront { .. }
            | RoomListUpdate::PushBack { .. }
            | RoomListUpdate::Insert { .. } => Step::Add(1),
            RoomListUpdate::Set { .. } => Step::Same,
            RoomListUpdate::PopFront | RoomListUpdate::PopBack | RoomListUpdate::Remove { .. } => {
                Step::Remove(1)
            }
            RoomListUpdate::Clear => Step::Clear,
            RoomListUpdate::Truncate { length } => Step::Truncate(*length as usize),
        });
        self.apply(steps, Vec::new());
    }

    fn on_closed(&self) {
        self.seen().closed = true;
    }
}
