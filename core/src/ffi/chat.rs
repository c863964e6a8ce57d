//! The chat surface of the exported `Client`: the room list, room actions,
//! timelines and media. Each method only delegates.

use std::sync::Arc;

use super::client::Client;
use super::timeline::Timeline;
use crate::api::{
    CoreError, CoreResult, MediaSource, RoomListListener, RoomListOptions, RoomSummary,
};
use crate::client::RoomListHandle;
use crate::matrix;
use crate::supervisor::WhenDropped;

#[uniffi::export]
impl Client {
    /// A live room list: every room of the account, newest activity first,
    /// delivered as diffs (`Reset` first); `on_closed()` when the client ends.
    pub fn observe_room_list(
        &self,
        options: RoomListOptions,
        listener: Arc<dyn RoomListListener>,
    ) -> CoreResult<Arc<RoomListHandle>> {
        self.core.observe_room_list(options, listener)
    }

    /// One room's summary, from the local state; `NotFound` if unknown.
    pub fn room(&self, room_id: String) -> CoreResult<RoomSummary> {
        self.core
            .with_logged_in_sdk(|_| self.core.chat.summaries.get(&room_id))?
    }

    /// Leaves a joined room, or declines an invite.
    pub async fn leave_room(&self, room_id: String) -> CoreResult<()> {
        let sdk = self.core.sdk_with_stores()?;
        let work = async move { matrix::rooms::leave(&sdk, &room_id).await };
        self.core
            .store_call("leave_room", WhenDropped::Abort, work)
            .await
    }

    /// Invites `user_id` to a joined room.
    pub async fn invite(&self, room_id: String, user_id: String) -> CoreResult<()> {
        let sdk = self.core.sdk_with_stores()?;
        let work = async move { matrix::rooms::invite(&sdk, &room_id, &user_id).await };
        self.core
            .store_call("invite", WhenDropped::Abort, work)
            .await
    }

    /// Marks a room as a favourite, or not.
    pub async fn set_favourite(&self, room_id: String, favourite: bool) -> CoreResult<()> {
        let sdk = self.core.sdk_with_stores()?;
        let work = async move { matrix::rooms::set_favourite(&sdk, &room_id, favourite).await };
        self.core
            .store_call("set_favourite", WhenDropped::Abort, work)
            .await
    }

    /// The live timeline of a joined room; `NotFound` otherwise. Sync then
    /// carries the room in full (up to 20 new events a response). The
    /// room's first timeline while sync runs returns once sync has answered
    /// that subscription (at most 5 s, and 1 s more to ask the server for the
    /// latest page when no answer came), with its latest events in it.
    pub async fn timeline(&self, room_id: String) -> CoreResult<Arc<Timeline>> {
        let core = self.core.timeline(room_id).await?;
        Ok(Arc::new(Timeline { core }))
    }

    /// Writes a media file, decrypted, to `dest_path` (through a temporary
    /// file of its own, renamed into place); returns its size in bytes. The
    /// file streams to disk as it arrives: memory does not grow with it.
    pub async fn download_media(&self, source: MediaSource, dest_path: String) -> CoreResult<u64> {
        let sdk = self.core.sdk_with_stores()?;
        let work = async move {
            let source = matrix::timeline::items::sdk_media_source(&source)?;
            matrix::media::download::download(&sdk, source, dest_path.into()).await
        };
        self.core
            .store_call("download_media", WhenDropped::Abort, work)
            .await
    }

    /// Writes the server's thumbnail of an unencrypted file (an avatar, an
    /// image), scaled to fit `width` x `height` (1 to 2048 pixels), to
    /// `dest_path`; returns its size in bytes. Authenticated media, kept in
    /// the media store: the same size again asks no server. An encrypted
    /// file has no server thumbnail (`InvalidArgument`): download the
    /// message's `info.thumbnail` instead.
    pub async fn download_thumbnail(
        &self,
        source: MediaSource,
        width: u32,
        height: u32,
        dest_path: String,
    ) -> CoreResult<u64> {
        let sdk = self.core.sdk_with_stores()?;
        // A thumbnail is one small answer: twice one request's bound.
        let bound = 2 * self.core.request_timeout();
        let work = async move {
            let source = matrix::timeline::items::sdk_media_source(&source)?;
            let dest = dest_path.into();
            matrix::media::thumbnail::download(&sdk, source, width, height, dest, bound).await
        };
        self.core
            .store_call("download_thumbnail", WhenDropped::Abort, work)
            .await
    }

    /// The server's upload limit in bytes (`m.upload.size`); a larger file
    /// given to `send_file` is refused with `InvalidArgument` before it is
    /// read. Asked of the server once, then remembered.
    pub async fn max_upload_size(&self) -> CoreResult<u64> {
        let sdk = self.core.sdk_with_stores()?;
        let work = async move { matrix::media::max_upload_size(&sdk).await };
        self.core
            .store_call("max_upload_size", WhenDropped::Abort, work)
            .await
    }
}

/// A `MediaSource` for an unencrypted `mxc://` URL (an avatar URL from
/// elsewhere); anything else is `InvalidArgument`.
#[uniffi::export]
pub fn media_source_from_url(url: String) -> CoreResult<MediaSource> {
    matrix::media::source_of_url(&url)
        .ok_or_else(|| CoreError::invalid_argument(format!("`{url}` is not an mxc:// URL")))
}
