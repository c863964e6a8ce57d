//! Files sent into a conversation: checked against the server's upload
//! limit, read once on the blocking pool, and sent with their progress,
//! either as part of the call ([`send_file`]) or through matrix-sdk's send
//! queue ([`queue_media`]).

use std::path::PathBuf;

use matrix_sdk::attachment::{
    AttachmentConfig, AttachmentInfo, BaseAudioInfo, BaseFileInfo, BaseImageInfo, BaseVideoInfo,
    Thumbnail,
};
use matrix_sdk::ruma::events::room::message::{
    AudioInfo, AudioMessageEventContent, FileInfo, FileMessageEventContent,
    ImageMessageEventContent, MessageType, RoomMessageEventContent, TextMessageEventContent,
    VideoInfo, VideoMessageEventContent,
};
use matrix_sdk::ruma::events::room::{ImageInfo, MediaSource};
use matrix_sdk::ruma::{OwnedTransactionId, TransactionId, UInt};
use matrix_sdk::send_queue::RoomSendQueueUpdate;

use super::Timeline;
use crate::api::{CoreError, CoreResult, UploadInfo};
use crate::matrix::{errors, media};

pub(crate) use crate::matrix::media::mime_of;

/// Uploads the file at `path` and sends it as an image, video, audio or file
/// message (by its type), encrypted in encrypted rooms. `progress` hears the
/// bytes sent. Dropping the future stops the upload; no local echo is left.
///
/// A file over the server's upload limit is refused with `InvalidArgument`
/// before it is read. The file streams to the server (encrypted on the way
/// in an encrypted room, [`media::upload`]): memory does not grow with it,
/// and nothing is copied into the media store. The server's refusals keep their kind
/// (`Server { status: 413 }` for a file the server finds too large,
/// `Network` when it cannot be reached).
pub(crate) async fn send_file(
    timeline: &Timeline,
    path: String,
    mime: mime::Mime,
    caption: Option<String>,
    progress: Option<media::upload::Report>,
) -> CoreResult<()> {
    let room = timeline.room();
    let client = room.client();
    let limit = media::max_upload_size(&client).await?;
    let encrypted = room
        .latest_encryption_state()
        .await
        .map_err(|e| errors::from_sdk(&e))?
        .is_encrypted();
    let file = PathBuf::from(&path);
    let size = tokio::fs::metadata(&file)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    let source =
        media::upload::upload_file(&client, file.clone(), &mime, encrypted, limit, progress)
            .await?;
    let filename = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let message = media_message(&mime, filename, source, caption, size);
    room.send(RoomMessageEventContent::new(message))
        .await
        .map_err(|e| errors::from_sdk(&e))?;
    Ok(())
}

/// The message of an uploaded file: an image, video, audio or file by its
/// type, with its type and size for the receiver; with a caption, the
/// caption is the body and the file's name its `filename`.
fn media_message(
    mime: &mime::Mime,
    filename: String,
    source: MediaSource,
    caption: Option<String>,
    size: u64,
) -> MessageType {
    let (body, filename) = match caption {
        Some(caption) => (caption, Some(filename)),
        None => (filename, None),
    };
    let mimetype = Some(mime.essence_str().to_owned());
    let size = UInt::new(size);
    match mime.type_() {
        mime::IMAGE => {
            let mut info = ImageInfo::new();
            (info.mimetype, info.size) = (mimetype, size);
            let mut content = ImageMessageEventContent::new(body, source);
            (content.info, content.filename) = (Some(Box::new(info)), filename);
            MessageType::Image(content)
        }
        mime::VIDEO => {
            let mut info = VideoInfo::new();
            (info.mimetype, info.size) = (mimetype, size);
            let mut content = VideoMessageEventContent::new(body, source);
            (content.info, content.filename) = (Some(Box::new(info)), filename);
            MessageType::Video(content)
        }
        mime::AUDIO => {
            let mut info = AudioInfo::new();
            (info.mimetype, info.size) = (mimetype, size);
            let mut content = AudioMessageEventContent::new(body, source);
            (content.info, content.filename) = (Some(Box::new(info)), filename);
            MessageType::Audio(content)
        }
        _ => {
            let mut info = FileInfo::new();
            (info.mimetype, info.size) = (mimetype, size);
            let mut content = FileMessageEventContent::new(body, source);
            (content.info, content.filename) = (Some(Box::new(info)), filename);
            MessageType::File(content)
        }
    }
}

/// What follows a queued upload: hands its progress to the report function
/// until the media is sent, taken back, or fails for good.
pub(crate) type Progress = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Queues the file at `path` in matrix-sdk's send queue, as an image, video,
/// audio or file message by its type, with `info` (dimensions, duration,
/// BlurHash, a thumbnail) for the receiver. Returns once the local echo is
/// in the timeline: the upload runs in the queue's own time, survives a
/// `close` (the file is kept in the media store) and is sent when the
/// server is reachable; `cancel_send` takes it back.
///
/// A file (or a thumbnail) over the server's upload limit is refused with
/// `InvalidArgument` before it is read; the file is read once, on the
/// blocking pool.
pub(crate) async fn queue_media(
    timeline: &Timeline,
    path: String,
    mime: mime::Mime,
    info: UploadInfo,
    report: Option<media::upload::Report>,
) -> CoreResult<Progress> {
    let room = timeline.room().clone();
    let client = room.client();
    let limit = media::max_upload_size(&client).await?;
    let file = PathBuf::from(&path);
    let data = media::read_for_upload(file.clone(), limit).await?;
    let thumbnail = match &info.thumbnail_path {
        Some(thumb) => Some(thumbnail(thumb, limit, &info).await?),
        None => None,
    };
    let filename = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let txn: OwnedTransactionId = TransactionId::new();
    let config = AttachmentConfig {
        txn_id: Some(txn.clone()),
        caption: info.caption.clone().map(TextMessageEventContent::plain),
        info: Some(media_info(data.len() as u64, &mime, &info)),
        thumbnail,
        ..Default::default()
    };
    // Subscribed before the queue can make progress, so none is missed (the
    // room's own updates: matrix-sdk tells upload progress to no other).
    let updates = match report {
        Some(_) => {
            client.send_queue().enable_upload_progress(true);
            let (_, updates) = room
                .send_queue()
                .subscribe()
                .await
                .map_err(|e| errors::from_send_queue(&e))?;
            Some(updates)
        }
        None => None,
    };
    room.send_queue()
        .send_attachment(filename, mime, data, config)
        .await
        .map_err(|e| errors::from_send_queue(&e))?;
    Ok(match (updates, report) {
        (Some(updates), Some(report)) => Box::pin(follow_upload(updates, txn, report)),
        _ => Box::pin(std::future::ready(())),
    })
}

/// Reports the upload progress of the media sent with `txn`, from its
/// room's send queue updates, until it is sent, taken back or fails for good.
async fn follow_upload(
    mut updates: tokio::sync::broadcast::Receiver<RoomSendQueueUpdate>,
    txn: OwnedTransactionId,
    report: media::upload::Report,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let update = match updates.recv().await {
            Ok(update) => update,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        match update {
            RoomSendQueueUpdate::MediaUpload {
                related_to,
                progress,
                ..
            } if related_to == txn => report(progress.current as u64, progress.total as u64),
            RoomSendQueueUpdate::SentEvent { transaction_id, .. }
            | RoomSendQueueUpdate::CancelledLocalEvent { transaction_id }
                if transaction_id == txn =>
            {
                return
            }
            RoomSendQueueUpdate::SendError {
                transaction_id,
                is_recoverable: false,
                ..
            } if transaction_id == txn => return,
            _ => {}
        }
    }
}

/// The thumbnail at `path` for an upload with `info`, refused over `limit`.
async fn thumbnail(path: &str, limit: u64, info: &UploadInfo) -> CoreResult<Thumbnail> {
    let data = media::read_for_upload(PathBuf::from(path), limit).await?;
    let content_type = mime_guess::from_path(path).first_or(mime::IMAGE_JPEG);
    if content_type.type_() != mime::IMAGE {
        return Err(CoreError::invalid_argument(format!(
            "thumbnail_path `{path}` is not an image ({content_type})"
        )));
    }
    let uint = |v: Option<u32>| UInt::from(v.unwrap_or(0));
    Ok(Thumbnail {
        size: UInt::new(data.len() as u64).unwrap_or_default(),
        data,
        content_type,
        width: uint(info.width),
        height: uint(info.height),
    })
}

/// What the receiver is told of the media before it downloads it.
fn media_info(size: u64, mime: &mime::Mime, info: &UploadInfo) -> AttachmentInfo {
    let size = UInt::new(size);
    let (width, height) = (info.width.map(UInt::from), info.height.map(UInt::from));
    let duration = info.duration_ms.map(std::time::Duration::from_millis);
    let blurhash = info.blurhash.clone();
    match mime.type_() {
        mime::IMAGE => AttachmentInfo::Image(BaseImageInfo {
            size,
            width,
            height,
            blurhash,
            ..Default::default()
        }),
        mime::VIDEO => AttachmentInfo::Video(BaseVideoInfo {
            size,
            width,
            height,
            duration,
            blurhash,
        }),
        mime::AUDIO => AttachmentInfo::Audio(BaseAudioInfo {
            size,
            duration,
            ..Default::default()
        }),
        _ => AttachmentInfo::File(BaseFileInfo { size }),
    }
}
