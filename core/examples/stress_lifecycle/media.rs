//! The run's image: a real PNG sent into the run's room at setup, whose
//! unencrypted source the workload asks server thumbnails of
//! (`download_thumbnail`, at sizes the media store has or not yet).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_executor::block_on;

use crate::api::{
    Client, MediaSource, MessageContent, TimelineItem, TimelineItemKind, TimelineListener,
    TimelineUpdate, UploadInfo,
};

/// A 64 x 64 PNG, which Synapse can scale.
const IMAGE: &[u8] = include_bytes!("../../tests/support/avatar.png");

/// Notes the source of the first media item the server has.
#[derive(Default)]
struct FirstImage(Mutex<Option<MediaSource>>);

impl TimelineListener for FirstImage {
    fn on_update(&self, updates: Vec<TimelineUpdate>) {
        let items: Vec<TimelineItem> = updates
            .into_iter()
            .flat_map(|u| match u {
                TimelineUpdate::Reset { values } | TimelineUpdate::Append { values } => values,
                TimelineUpdate::PushBack { value }
                | TimelineUpdate::PushFront { value }
                | TimelineUpdate::Insert { value, .. }
                | TimelineUpdate::Set { value, .. } => vec![value],
                _ => Vec::new(),
            })
            .collect();
        let found = items.into_iter().find_map(|i| match i.kind {
            TimelineItemKind::Event {
                event_id: Some(_),
                content: MessageContent::Media { source, .. },
                ..
            } => Some(source),
            _ => None,
        });
        if let Some(source) = found {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert(source);
        }
    }

    fn on_closed(&self) {}
}

/// Sends the run's image into `room` as `client` (logged in, a member) and
/// returns its source once the server has it (at most 60 s).
pub fn send_image(client: &Client, room: &str, root: &Path) -> Result<MediaSource, String> {
    let path = root.join("image.png");
    std::fs::write(&path, IMAGE).map_err(|e| format!("writing the image: {e}"))?;
    block_on(client.start_sync()).map_err(|e| format!("start_sync: {e}"))?;
    let timeline =
        block_on(client.timeline(room.to_owned())).map_err(|e| format!("timeline: {e}"))?;
    let seen = Arc::new(FirstImage::default());
    let subscription = timeline
        .observe(seen.clone())
        .map_err(|e| format!("observe: {e}"))?;
    let upload = timeline.send_media(path.to_string_lossy().into(), UploadInfo::default(), None);
    block_on(upload).map_err(|e| format!("send_media: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(source) = seen.0.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            subscription.cancel();
            return Ok(source);
        }
        if Instant::now() > deadline {
            return Err("the image was not sent within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
