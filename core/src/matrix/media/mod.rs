//! Media files: the server's upload limit, files read for upload within it,
//! and downloads streamed to disk ([`download`]).

pub(crate) mod download;
mod http;
pub(crate) mod thumbnail;
pub(crate) mod upload;

use std::io::Read;
use std::path::PathBuf;

use crate::api::{CoreError, CoreResult, MediaSource};
use crate::matrix::errors;

/// The core's record of where a media file is.
pub(crate) fn source_record(source: &matrix_sdk::ruma::events::room::MediaSource) -> MediaSource {
    use matrix_sdk::ruma::events::room::MediaSource as Sdk;
    let (url, encrypted) = match source {
        Sdk::Plain(uri) => (uri.to_string(), false),
        Sdk::Encrypted(file) => (file.url.to_string(), true),
    };
    MediaSource {
        url,
        encrypted,
        descriptor: serde_json::to_string(source).unwrap_or_default(),
    }
}

/// The record of an unencrypted file at the `mxc://` URI `url` (an avatar);
/// `None` for anything else.
pub(crate) fn source_of_url(url: &str) -> Option<MediaSource> {
    let uri = matrix_sdk::ruma::OwnedMxcUri::from(url);
    uri.is_valid()
        .then(|| source_record(&matrix_sdk::ruma::events::room::MediaSource::Plain(uri)))
}

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

/// The server's upload limit in bytes (`m.upload.size`), asked once per
/// client and then remembered by matrix-sdk.
pub(crate) async fn max_upload_size(client: &matrix_sdk::Client) -> CoreResult<u64> {
    client
        .load_or_fetch_max_upload_size()
        .await
        .map(u64::from)
        .map_err(|e| errors::from_sdk(&e))
}

/// Reads the file at `path` for an upload, on the blocking pool, refusing
/// one larger than `limit` with `InvalidArgument` before a byte is read. A
/// file that grows while it is read is cut at `limit + 1` bytes and refused
/// too: memory never holds more than the limit allows.
pub(crate) async fn read_for_upload(path: PathBuf, limit: u64) -> CoreResult<Vec<u8>> {
    let read = tokio::task::spawn_blocking(move || -> CoreResult<Vec<u8>> {
        let shown = path.display().to_string();
        let file = open_within(&path, limit)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.take(limit.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| CoreError::invalid_argument(format!("reading `{shown}`: {e}")))?;
        if data.len() as u64 > limit {
            return Err(too_large(&shown, data.len() as u64, limit));
        }
        Ok(data)
    });
    read.await
        .map_err(|e| CoreError::internal(format!("reading the file: {e}")))?
}

/// The file at `path`, opened, if it is a regular file within `limit`.
pub(super) fn open_within(path: &std::path::Path, limit: u64) -> CoreResult<std::fs::File> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| CoreError::invalid_argument(format!("file `{shown}`: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| CoreError::invalid_argument(format!("file `{shown}`: {e}")))?;
    if !meta.is_file() {
        return Err(CoreError::invalid_argument(format!(
            "`{shown}` is not a regular file"
        )));
    }
    if meta.len() > limit {
        return Err(too_large(&shown, meta.len(), limit));
    }
    Ok(file)
}

fn too_large(shown: &str, size: u64, limit: u64) -> CoreError {
    CoreError::invalid_argument(format!(
        "`{shown}` is {size} bytes, over the server's upload limit of {limit} bytes"
    ))
}

/// Uploads the image at `path` as an avatar (unencrypted, within the
/// server's limit, streamed from the file); returns its `mxc://` URI. Its
/// type is `mimetype`, else guessed from the name; anything but an image is
/// `InvalidArgument`, before a byte is read.
pub(crate) async fn upload_avatar(
    client: &matrix_sdk::Client,
    path: String,
    mimetype: Option<String>,
) -> CoreResult<matrix_sdk::ruma::OwnedMxcUri> {
    let mime = mime_of(&path, mimetype.as_deref())?;
    if mime.type_() != mime::IMAGE {
        return Err(CoreError::invalid_argument(format!(
            "an avatar is an image; `{path}` is {mime}"
        )));
    }
    let limit = max_upload_size(client).await?;
    match upload::upload_file(client, path.into(), &mime, false, limit, None).await? {
        matrix_sdk::ruma::events::room::MediaSource::Plain(uri) => Ok(uri),
        matrix_sdk::ruma::events::room::MediaSource::Encrypted(file) => Ok(file.url),
    }
}
