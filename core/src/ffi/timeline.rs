//! The exported `Timeline` object. Each method only delegates.

use std::sync::Arc;

use crate::api::{CoreResult, ProgressListener, TimelineListener, TypingListener, UploadInfo};
use crate::client::progress::ProgressFeed;
use crate::client::{Subscription, TimelineCore};
use crate::matrix::timeline::{self as ops, media};
use crate::supervisor::WhenDropped;

/// A room's live timeline. Calls after its client ended get `ClientClosed`.
/// Releasing it lets go of its matrix-sdk tasks.
#[derive(uniffi::Object)]
pub struct Timeline {
    pub(crate) core: Arc<TimelineCore>,
}

#[uniffi::export]
impl Timeline {
    /// Calls `listener` with the items (`Reset` first), then every change;
    /// `on_closed()` when the client ends.
    pub fn observe(&self, listener: Arc<dyn TimelineListener>) -> CoreResult<Arc<Subscription>> {
        self.core.observe(listener)
    }

    /// Loads up to `events` older events; `true` once the room's start is reached.
    pub async fn paginate_backwards(&self, events: u16) -> CoreResult<bool> {
        self.core.paginate_backwards(events).await
    }

    /// Queues a text message (a reply to the event `in_reply_to`). Its local
    /// echo is in the timeline (`Sending`) when this returns; a cancelled
    /// call still queues it once it has begun.
    pub async fn send_text(&self, body: String, in_reply_to: Option<String>) -> CoreResult<()> {
        self.core
            .call(
                "timeline_send_text",
                WhenDropped::Finish,
                move |t| async move { ops::send_text(&t, &body, in_reply_to.as_deref()).await },
            )
            .await
    }

    /// Uploads a file and sends it (image, video, audio or file by its
    /// mimetype, guessed from the name when `None`). A cancelled call stops
    /// the upload and leaves no local echo. A file over the server's upload
    /// limit is `InvalidArgument` before it is read; nothing of the file is
    /// read on the caller's thread. Progress reaches `progress` on a
    /// listener thread, coalesced to the latest value; the last one is
    /// delivered before this returns (waiting at most 1 s for a listener
    /// that blocks).
    pub async fn send_file(
        &self,
        path: String,
        mimetype: Option<String>,
        caption: Option<String>,
        progress: Option<Arc<dyn ProgressListener>>,
    ) -> CoreResult<()> {
        let mime = media::mime_of(&path, mimetype.as_deref())?;
        let feed = progress.map(ProgressFeed::new);
        let report = feed.as_ref().map(ProgressFeed::reporter);
        self.core
            .call("send_file", WhenDropped::Abort, move |t| async move {
                let sent = media::send_file(&t, path, mime, caption, report).await;
                if let Some(feed) = feed {
                    feed.flush().await;
                }
                sent
            })
            .await
    }

    /// Sends a file through matrix-sdk's send queue, with what the receiver
    /// shows before downloading it (`info`: type, caption, dimensions,
    /// duration, BlurHash, thumbnail). Returns once its local echo is in the
    /// timeline (`Sending`); the upload then runs in the queue: its progress
    /// reaches `progress` (on a listener thread, coalesced to the latest
    /// value), it is sent when the server is reachable, counted in a
    /// drain's `unsent_messages` (and kept through a `close`), and
    /// `cancel_send` takes it back. A file over the server's upload limit is
    /// `InvalidArgument` before it is read; nothing of it is read on the
    /// caller's thread. A cancelled call that has begun still queues it.
    pub async fn send_media(
        &self,
        path: String,
        info: UploadInfo,
        progress: Option<Arc<dyn ProgressListener>>,
    ) -> CoreResult<()> {
        let mime = media::mime_of(&path, info.mimetype.as_deref())?;
        let report = progress.map(|p| ProgressFeed::new(p).reporter());
        let follow = self
            .core
            .call("send_media", WhenDropped::Finish, move |t| async move {
                media::queue_media(&t, path, mime, info, report).await
            })
            .await?;
        self.core.follow_upload(follow);
        Ok(())
    }

    /// Replaces the text of the message `item_id`.
    pub async fn edit(&self, item_id: String, body: String) -> CoreResult<()> {
        self.core
            .call("edit", WhenDropped::Abort, move |t| async move {
                ops::edit(&t, &item_id, &body).await
            })
            .await
    }

    /// Adds this user's reaction `key` to `item_id`, or takes it back.
    pub async fn toggle_reaction(&self, item_id: String, key: String) -> CoreResult<()> {
        self.core
            .call("toggle_reaction", WhenDropped::Abort, move |t| async move {
                ops::toggle_reaction(&t, &item_id, &key).await
            })
            .await
    }

    /// Redacts the event `item_id` (a local echo is taken back instead).
    pub async fn redact(&self, item_id: String, reason: Option<String>) -> CoreResult<()> {
        self.core
            .call("redact", WhenDropped::Abort, move |t| async move {
                ops::redact(&t, &item_id, reason.as_deref()).await
            })
            .await
    }

    /// Sends again a local echo whose send failed.
    pub async fn retry_send(&self, item_id: String) -> CoreResult<()> {
        self.core
            .call("retry_send", WhenDropped::Abort, move |t| async move {
                ops::retry_send(&t, &item_id).await
            })
            .await
    }

    /// Takes a queued or failed local echo back; `false` if it was sent.
    pub async fn cancel_send(&self, item_id: String) -> CoreResult<bool> {
        self.core
            .call("cancel_send", WhenDropped::Abort, move |t| async move {
                ops::cancel_send(&t, &item_id).await
            })
            .await
    }

    /// Sends the read receipt and the fully-read marker at the latest event.
    pub async fn mark_as_read(&self) -> CoreResult<()> {
        self.core
            .call("mark_as_read", WhenDropped::Abort, move |t| async move {
                ops::mark_as_read(&t).await
            })
            .await
    }

    /// Tells the room whether this user is typing.
    pub async fn set_typing(&self, typing: bool) -> CoreResult<()> {
        self.core
            .call("set_typing", WhenDropped::Abort, move |t| async move {
                ops::set_typing(t.room(), typing).await
            })
            .await
    }

    /// Calls `listener` with who is typing (the own user left out);
    /// `on_closed()` when the client ends.
    pub fn observe_typing(
        &self,
        listener: Arc<dyn TypingListener>,
    ) -> CoreResult<Arc<Subscription>> {
        self.core.observe_typing(listener)
    }
}
