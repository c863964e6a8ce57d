//! Files sent into a conversation: checked against the server's upload
//! limit, read once on the blocking pool, and sent with their progress.

use std::path::PathBuf;

use eyeball::SharedObservable;
use matrix_sdk::attachment::{
    AttachmentConfig, AttachmentInfo, BaseAudioInfo, BaseFileInfo, BaseImageInfo, BaseVideoInfo,
};
use matrix_sdk::ruma::events::room::message::TextMessageEventContent;
use matrix_sdk::TransmissionProgress;

use super::Timeline;
use crate::api::{CoreError, CoreResult};
use crate::matrix::{errors, media};

/// The type of a file to upload: `mimetype` when given, else guessed from
/// the name. Reads nothing.
pub(crate) fn mime_of(path: &str, mimetype: Option<&str>) -> CoreResult<mime::Mime> {
    match mimetype {
        Some(m) => m
            .parse::<mime::Mime>()
            .map_err(|e| CoreError::invalid_argument(format!("mimetype `{m}`: {e}"))),
        None => Ok(mime_guess::from_path(path).first_or_octet_stream()),
    }
}

/// Uploads the file at `path` and sends it as an image, video, audio or file
/// message (by its type), encrypted in encrypted rooms. `progress` hears the
/// bytes sent. Dropping the future stops the upload; no local echo is left.
///
/// A file over the server's upload limit is refused with `InvalidArgument`
/// before it is read. The file is read once; in an encrypted room its
/// ciphertext is the one other copy (the plaintext is dropped once it is
/// encrypted), and nothing is copied into the media store. The server's
/// refusals keep their kind (`Server { status: 413 }` for a file the server
/// finds too large, `Network` when it cannot be reached).
pub(crate) async fn send_file(
    timeline: &Timeline,
    path: String,
    mime: mime::Mime,
    caption: Option<String>,
    progress: Option<Box<dyn Fn(u64, u64) + Send + Sync>>,
) -> CoreResult<()> {
    let room = timeline.room();
    let limit = media::max_upload_size(&room.client()).await?;
    let file = PathBuf::from(&path);
    let data = media::read_for_upload(file.clone(), limit).await?;
    let filename = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let config = AttachmentConfig {
        caption: caption.map(TextMessageEventContent::plain),
        info: Some(size_info(data.len() as u64, &mime)),
        ..Default::default()
    };
    let observable = SharedObservable::new(TransmissionProgress::default());
    let mut updates = observable.subscribe();
    let send = room
        .send_attachment(filename, &mime, data, config)
        .with_send_progress_observable(observable);
    let watch = async move {
        let Some(progress) = progress else {
            return std::future::pending().await;
        };
        while let Some(p) = updates.next().await {
            progress(p.current as u64, p.total as u64);
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        sent = send => sent.map(|_| ()).map_err(|e| errors::from_sdk(&e)),
        () = watch => Ok(()),
    }
}

/// The file's size, for the receiver's `MediaContent::Media.size`.
fn size_info(size: u64, mime: &mime::Mime) -> AttachmentInfo {
    let size = matrix_sdk::ruma::UInt::new(size);
    match mime.type_() {
        mime::IMAGE => AttachmentInfo::Image(BaseImageInfo {
            size,
            ..Default::default()
        }),
        mime::VIDEO => AttachmentInfo::Video(BaseVideoInfo {
            size,
            ..Default::default()
        }),
        mime::AUDIO => AttachmentInfo::Audio(BaseAudioInfo {
            size,
            ..Default::default()
        }),
        _ => AttachmentInfo::File(BaseFileInfo { size }),
    }
}
