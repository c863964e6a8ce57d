//! Composing on the exported `Timeline` (formatted messages, mentions,
//! replies by item id, edits, the private read receipt) and the unread
//! mark on `Client`. Each method only delegates.

use crate::api::{CoreResult, OutgoingMessage};
use crate::matrix::timeline::compose;
use crate::supervisor::WhenDropped;

use super::client::Client;
use super::timeline::Timeline;

#[uniffi::export]
impl Timeline {
    /// Queues `message` (Markdown, emote or notice, intentional mentions),
    /// a reply to the item `in_reply_to_item` when given. Its local echo is
    /// in the timeline when this returns; a cancelled call that has begun
    /// still queues it. A reply to a local echo waits for the echo to reach
    /// the server (30 s at most: `Timeout`; one that failed:
    /// `InvalidState`).
    pub async fn send_message(
        &self,
        message: OutgoingMessage,
        in_reply_to_item: Option<String>,
    ) -> CoreResult<()> {
        compose::content_of(&message)?;
        self.core
            .call("send_message", WhenDropped::Finish, move |t| async move {
                compose::send_message(&t, &message, in_reply_to_item.as_deref()).await
            })
            .await
    }

    /// Replaces the message `item_id` with `message`.
    pub async fn edit_message(&self, item_id: String, message: OutgoingMessage) -> CoreResult<()> {
        compose::content_of(&message)?;
        self.core
            .call("edit_message", WhenDropped::Abort, move |t| async move {
                compose::edit_message(&t, &item_id, &message).await
            })
            .await
    }

    /// Sends a private read receipt (`m.read.private`: others do not see
    /// it) and the fully-read marker at the latest event.
    pub async fn mark_as_read_privately(&self) -> CoreResult<()> {
        self.core
            .call(
                "mark_as_read_privately",
                WhenDropped::Abort,
                move |t| async move { compose::mark_as_read_privately(&t).await },
            )
            .await
    }
}

#[uniffi::export]
impl Client {
    /// Marks a room unread, or clears the mark; the `Unread` filter
    /// honours it. While sync runs, it returns once sync has brought the
    /// mark back (10 s at most), so that the room's summary
    /// (`is_marked_unread`) shows it.
    pub async fn set_marked_unread(&self, room_id: String, unread: bool) -> CoreResult<()> {
        let summaries = self.core.chat.summaries.clone();
        let wait = self.core.new_room_wait();
        let work = move |sdk| async move {
            crate::matrix::rooms::set_marked_unread(&sdk, &room_id, unread, wait).await?;
            summaries.refresh(&sdk, &room_id);
            Ok(())
        };
        self.core.sdk_call("set_marked_unread", work).await
    }
}
