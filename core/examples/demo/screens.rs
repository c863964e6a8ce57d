//! What an app's screens would hold: a room list and timelines kept in step
//! by their listeners (the diffs applied to plain lists), and the report
//! printer.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use matrix_mobile_core::{
    CoreError, LogoutReport, MessageContent, RoomListListener, RoomListUpdate, RoomSummary,
    SendState, TimelineItem, TimelineItemKind, TimelineListener, TimelineUpdate,
};

/// A list applied from eyeball-im diffs, with its end signal.
pub struct Screen<T> {
    pub name: &'static str,
    items: Mutex<Vec<T>>,
    closed: Mutex<bool>,
}

macro_rules! apply {
    ($list:expr, $update:expr, $ty:ident) => {
        match $update {
            $ty::Append { values } => $list.extend(values),
            $ty::Clear => $list.clear(),
            $ty::PushFront { value } => $list.insert(0, value),
            $ty::PushBack { value } => $list.push(value),
            $ty::PopFront => {
                $list.remove(0);
            }
            $ty::PopBack => {
                $list.pop();
            }
            $ty::Insert { index, value } => $list.insert(index as usize, value),
            $ty::Set { index, value } => $list[index as usize] = value,
            $ty::Remove { index } => {
                $list.remove(index as usize);
            }
            $ty::Truncate { length } => $list.truncate(length as usize),
            $ty::Reset { values } => *$list = values,
        }
    };
}

impl<T: Clone> Screen<T> {
    pub fn new(name: &'static str) -> Arc<Self> {
        Arc::new(Self {
            name,
            items: Mutex::new(Vec::new()),
            closed: Mutex::new(false),
        })
    }

    pub fn items(&self) -> Vec<T> {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn closed(&self) -> bool {
        *self.closed.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn close(&self) {
        *self.closed.lock().unwrap_or_else(|p| p.into_inner()) = true;
        println!("    [{}] on_closed", self.name);
    }
}

impl RoomListListener for Screen<RoomSummary> {
    fn on_update(&self, updates: Vec<RoomListUpdate>) {
        let mut list = self.items.lock().unwrap_or_else(|p| p.into_inner());
        for u in updates {
            apply!(list, u, RoomListUpdate);
        }
        let rows: Vec<String> = list
            .iter()
            .map(|r| {
                let latest = r.latest.as_ref().map(|l| l.preview.as_str()).unwrap_or("");
                format!(
                    "{} ({:?}) {latest:?}",
                    r.name.as_deref().unwrap_or("?"),
                    r.membership
                )
            })
            .collect();
        println!("    [{}] {rows:?}", self.name);
    }
    fn on_closed(&self) {
        self.close();
    }
}

impl TimelineListener for Screen<TimelineItem> {
    fn on_update(&self, updates: Vec<TimelineUpdate>) {
        let mut list = self.items.lock().unwrap_or_else(|p| p.into_inner());
        for u in updates {
            apply!(list, u, TimelineUpdate);
        }
    }
    fn on_closed(&self) {
        self.close();
    }
}

/// A timeline row as one line of text, or `None` for rows with no text.
pub fn row(item: &TimelineItem) -> Option<String> {
    let TimelineItemKind::Event {
        sender,
        content,
        send_state,
        edited,
        in_reply_to,
        reactions,
        ..
    } = &item.kind
    else {
        return None;
    };
    let who = sender.split(':').next().unwrap_or(sender);
    let text = match content {
        MessageContent::Text { body, .. } => body.clone(),
        MessageContent::Media { kind, body, .. } => format!("[{kind:?}] {body}"),
        other => return Some(format!("{who}: {other:?}")),
    };
    let mut line = format!("{who}: {text}");
    if *edited {
        line.push_str(" (edited)");
    }
    if in_reply_to.is_some() {
        line.push_str(" (a reply)");
    }
    for r in reactions {
        line.push_str(&format!(" [{} {}]", r.key, r.count));
    }
    match send_state {
        Some(SendState::Sending) => line.push_str(" (sending)"),
        Some(SendState::Failed { .. }) => line.push_str(" (failed)"),
        _ => {}
    }
    Some(line)
}

/// Waits until `done`, at most 30 s.
pub fn wait(what: &str, mut done: impl FnMut() -> bool) -> Result<(), CoreError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        if Instant::now() > deadline {
            return Err(CoreError::Timeout {
                operation: what.into(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

pub fn print_report(report: &LogoutReport) {
    println!("  server logout:          {:?}", report.server_logout);
    for p in &report.phases {
        println!(
            "    {:<20} {:>5} ms",
            format!("{:?}", p.phase),
            p.elapsed_ms
        );
    }
    println!("  total:                  {} ms", report.total_ms);
    println!("  tasks drained:          {}", report.tasks_drained);
    println!(
        "  store files open after: {:?}",
        report.store_files_open_after
    );
    println!("  client dropped:         {}", report.client_dropped);
    println!("  tasks left behind:      {}", report.tasks_left_behind);
    println!("  unsent messages:        {}", report.unsent_messages);
    println!("  data wiped:             {}", report.data_wiped);
    println!(
        "  runtime restarted:      {} (generation {})",
        report.runtime_restarted, report.runtime_generation
    );
    for w in &report.warnings {
        println!("  note: {w}");
    }
}
