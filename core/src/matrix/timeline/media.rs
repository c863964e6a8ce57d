//! Files in a conversation: uploads with their progress, and downloads
//! written atomically.

use std::path::{Path, PathBuf};

use matrix_sdk::attachment::{
    AttachmentInfo, BaseAudioInfo, BaseFileInfo, BaseImageInfo, BaseVideoInfo,
};
use matrix_sdk::media::{MediaFormat, MediaRequestParameters};
use matrix_sdk::ruma::events::room::message::TextMessageEventContent;
use matrix_sdk_ui::timeline::{AttachmentConfig, AttachmentSource};

use super::{from_timeline, Timeline};
use crate::api::{CoreError, CoreResult, MediaSource};
use crate::matrix::errors;

/// The file to upload and its type: `mimetype` when given, else guessed
/// from the name. Checked before anything is sent.
pub(crate) fn upload_source(
    path: &str,
    mimetype: Option<&str>,
) -> CoreResult<(PathBuf, mime::Mime)> {
    let file = PathBuf::from(path);
    let meta = std::fs::metadata(&file)
        .map_err(|e| CoreError::invalid_argument(format!("file `{path}`: {e}")))?;
    if !meta.is_file() {
        return Err(CoreError::invalid_argument(format!(
            "`{path}` is not a regular file"
        )));
    }
    let mime = match mimetype {
        Some(m) => m
            .parse::<mime::Mime>()
            .map_err(|e| CoreError::invalid_argument(format!("mimetype `{m}`: {e}")))?,
        None => mime_guess::from_path(&file).first_or_octet_stream(),
    };
    Ok((file, mime))
}

/// Uploads `file` and sends it as an image, video, audio or file message
/// (by its type), encrypted in encrypted rooms. `progress` hears the bytes
/// sent. Dropping the future stops the upload; no local echo is left.
pub(crate) async fn send_file(
    timeline: &Timeline,
    file: PathBuf,
    mime: mime::Mime,
    caption: Option<String>,
    progress: Option<Box<dyn Fn(u64, u64) + Send + Sync>>,
) -> CoreResult<()> {
    let config = AttachmentConfig {
        caption: caption.map(TextMessageEventContent::plain),
        info: size_info(&file, &mime),
        ..Default::default()
    };
    let send = timeline.send_attachment(AttachmentSource::File(file), mime, config);
    let mut updates = send.subscribe_to_send_progress();
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
        sent = send => sent.map_err(|e| from_timeline(&e)),
        () = watch => Ok(()),
    }
}

/// The file's size, for the receiver's `MediaContent::Media.size`.
fn size_info(file: &Path, mime: &mime::Mime) -> Option<AttachmentInfo> {
    let size = std::fs::metadata(file)
        .ok()
        .and_then(|m| matrix_sdk::ruma::UInt::new(m.len()));
    Some(match mime.type_() {
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
    })
}

/// Fetches (and decrypts) a media file into `dest`, through a temporary file
/// beside it that is renamed into place; returns its size.
pub(crate) async fn download(
    client: &matrix_sdk::Client,
    source: &MediaSource,
    dest: &str,
) -> CoreResult<u64> {
    let source = super::items::sdk_media_source(source)?;
    let dest = Path::new(dest);
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(CoreError::invalid_argument(format!(
            "dest_path: `{}` is not a directory",
            parent.display()
        )));
    }
    let request = MediaRequestParameters {
        source,
        format: MediaFormat::File,
    };
    let bytes = client
        .media()
        .get_media_content(&request, false)
        .await
        .map_err(|e| errors::from_sdk(&e))?;
    let size = bytes.len() as u64;
    write_atomically(dest, &bytes)
        .map_err(|e| CoreError::storage(format!("writing `{}`: {e}", dest.display())))?;
    Ok(size)
}

/// Writes `bytes` to a temporary file beside `dest` and renames it into
/// place; the temporary file is removed when anything fails.
fn write_atomically(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".to_owned());
    let tmp = dest.with_file_name(format!(".{name}.mmc-partial-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, dest)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
