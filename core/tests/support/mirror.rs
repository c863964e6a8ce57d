//! A list kept in step with a timeline or room list listener, as an app's
//! adapter keeps its view: the diffs applied in order.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use matrix_mobile_core::{
    RoomListListener, RoomListUpdate, RoomSummary, TimelineItem, TimelineListener, TimelineUpdate,
};

/// Applies eyeball-im diffs to a plain list, as an app's adapter does.
pub fn apply<T: Clone>(list: &mut Vec<T>, update: Diff<T>) {
    match update {
        Diff::Append(values) => list.extend(values),
        Diff::Clear => list.clear(),
        Diff::PushFront(v) => list.insert(0, v),
        Diff::PushBack(v) => list.push(v),
        Diff::PopFront => {
            list.remove(0);
        }
        Diff::PopBack => {
            list.pop();
        }
        Diff::Insert(i, v) => list.insert(i as usize, v),
        Diff::Set(i, v) => list[i as usize] = v,
        Diff::Remove(i) => {
            list.remove(i as usize);
        }
        Diff::Truncate(n) => list.truncate(n as usize),
        Diff::Reset(values) => *list = values,
    }
}

pub enum Diff<T> {
    Append(Vec<T>),
    Clear,
    PushFront(T),
    PushBack(T),
    PopFront,
    PopBack,
    Insert(u32, T),
    Set(u32, T),
    Remove(u32),
    Truncate(u32),
    Reset(Vec<T>),
}

impl From<TimelineUpdate> for Diff<TimelineItem> {
    fn from(u: TimelineUpdate) -> Self {
        match u {
            TimelineUpdate::Append { values } => Diff::Append(values),
            TimelineUpdate::Clear => Diff::Clear,
            TimelineUpdate::PushFront { value } => Diff::PushFront(value),
            TimelineUpdate::PushBack { value } => Diff::PushBack(value),
            TimelineUpdate::PopFront => Diff::PopFront,
            TimelineUpdate::PopBack => Diff::PopBack,
            TimelineUpdate::Insert { index, value } => Diff::Insert(index, value),
            TimelineUpdate::Set { index, value } => Diff::Set(index, value),
            TimelineUpdate::Remove { index } => Diff::Remove(index),
            TimelineUpdate::Truncate { length } => Diff::Truncate(length),
            TimelineUpdate::Reset { values } => Diff::Reset(values),
        }
    }
}

impl From<RoomListUpdate> for Diff<RoomSummary> {
    fn from(u: RoomListUpdate) -> Self {
        match u {
            RoomListUpdate::Append { values } => Diff::Append(values),
            RoomListUpdate::Clear => Diff::Clear,
            RoomListUpdate::PushFront { value } => Diff::PushFront(value),
            RoomListUpdate::PushBack { value } => Diff::PushBack(value),
            RoomListUpdate::PopFront => Diff::PopFront,
            RoomListUpdate::PopBack => Diff::PopBack,
            RoomListUpdate::Insert { index, value } => Diff::Insert(index, value),
            RoomListUpdate::Set { index, value } => Diff::Set(index, value),
            RoomListUpdate::Remove { index } => Diff::Remove(index),
            RoomListUpdate::Truncate { length } => Diff::Truncate(length),
            RoomListUpdate::Reset { values } => Diff::Reset(values),
        }
    }
}

/// A list kept in step by a listener, with what it was told.
pub struct Mirror<T> {
    pub items: Mutex<Vec<T>>,
    /// Every value the diffs carried, in order (an item's past states).
    pub seen: Mutex<Vec<T>>,
    pub calls: Mutex<u32>,
    pub first_was_reset: Mutex<Option<bool>>,
    /// The values of the first update, when it was a `Reset`.
    pub first_reset: Mutex<Option<Vec<T>>>,
    pub closed: Mutex<u32>,
}

impl<T: Clone> Mirror<T> {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            items: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
            calls: Mutex::new(0),
            first_was_reset: Mutex::new(None),
            first_reset: Mutex::new(None),
            closed: Mutex::new(0),
        })
    }

    pub fn update(&self, updates: Vec<Diff<T>>) {
        let mut first = self.first_was_reset.lock().unwrap();
        if first.is_none() {
            *first = Some(matches!(updates.first(), Some(Diff::Reset(_))));
            if let Some(Diff::Reset(values)) = updates.first() {
                *self.first_reset.lock().unwrap() = Some(values.clone());
            }
        }
        *self.calls.lock().unwrap() += 1;
        let mut items = self.items.lock().unwrap();
        let mut seen = self.seen.lock().unwrap();
        for u in updates {
            match &u {
                Diff::Append(values) | Diff::Reset(values) => seen.extend(values.iter().cloned()),
                Diff::PushFront(v) | Diff::PushBack(v) | Diff::Insert(_, v) | Diff::Set(_, v) => {
                    seen.push(v.clone())
                }
                _ => {}
            }
            apply(&mut items, u);
        }
    }

    pub fn items(&self) -> Vec<T> {
        self.items.lock().unwrap().clone()
    }

    pub fn closed(&self) -> u32 {
        *self.closed.lock().unwrap()
    }
}

impl TimelineListener for Mirror<TimelineItem> {
    fn on_update(&self, updates: Vec<TimelineUpdate>) {
        self.update(updates.into_iter().map(Diff::from).collect());
    }
    fn on_closed(&self) {
        *self.closed.lock().unwrap() += 1;
    }
}

impl RoomListListener for Mirror<RoomSummary> {
    fn on_update(&self, updates: Vec<RoomListUpdate>) {
        self.update(updates.into_iter().map(Diff::from).collect());
    }
    fn on_closed(&self) {
        *self.closed.lock().unwrap() += 1;
    }
}

/// Observes `timeline` into a new mirror. Returns the mirror, its
/// subscription and the values of the first update, which must be a `Reset`
/// (waited for, up to 10 s).
pub fn observe_timeline(
    timeline: &matrix_mobile_core::Timeline,
) -> (
    Arc<Mirror<TimelineItem>>,
    Arc<matrix_mobile_core::Subscription>,
    Vec<TimelineItem>,
) {
    let mirror = Mirror::new();
    let subscription = timeline.observe(mirror.clone()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while mirror.first_was_reset.lock().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "no first update within 10 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        *mirror.first_was_reset.lock().unwrap(),
        Some(true),
        "the first update is a Reset"
    );
    let first = mirror
        .first_reset
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_default();
    (mirror, subscription, first)
}

/// The bodies of the text messages among `items`, in order.
pub fn text_bodies(items: &[TimelineItem]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| match &i.kind {
            matrix_mobile_core::TimelineItemKind::Event {
                content: matrix_mobile_core::MessageContent::Text { body, .. },
                ..
            } => Some(body.clone()),
            _ => None,
        })
        .collect()
}
