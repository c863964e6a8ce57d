//! A server's scaled thumbnail of an unencrypted file (avatars, images),
//! through matrix-sdk's media API: authenticated media, and cached in the
//! media store, so a second call for the same size asks no server.

use std::path::PathBuf;

use matrix_sdk::media::{MediaFormat, MediaRequestParameters, MediaThumbnailSettings};
use matrix_sdk::ruma::events::room::MediaSource as SdkMediaSource;
use matrix_sdk::ruma::UInt;

use super::download;
use crate::api::{CoreError, CoreResult};
use crate::matrix::errors;

/// The largest width or height asked of a server: thumbnails are small by
/// design, and the answer is held in memory before it is written.
pub(crate) const MAX_SIDE: u32 = 2048;

/// Writes the server's thumbnail of `source`, scaled to fit `width` ×
/// `height`, to `dest` (through a temporary file, renamed into place);
/// returns its size. The server's answer is waited for `bound` at most
/// (`Timeout`): matrix-sdk's media requests have no timeout of their own,
/// and a server that never answers held the call for good.
pub(crate) async fn download(
    client: &matrix_sdk::Client,
    source: SdkMediaSource,
    width: u32,
    height: u32,
    dest: PathBuf,
    bound: std::time::Duration,
) -> CoreResult<u64> {
    if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
        return Err(CoreError::invalid_argument(format!(
            "a thumbnail's width and height are 1 to {MAX_SIDE} pixels, not {width} x {height}"
        )));
    }
    if matches!(source, SdkMediaSource::Encrypted(_)) {
        return Err(CoreError::invalid_argument(
            "an encrypted file has no server thumbnail: download the message's \
             `info.thumbnail` with `download_media`",
        ));
    }
    download::check_dest(&dest).await?;
    let request = MediaRequestParameters {
        source,
        format: MediaFormat::Thumbnail(MediaThumbnailSettings::new(
            UInt::from(width),
            UInt::from(height),
        )),
    };
    let media = client.media();
    let fetch = media.get_media_content(&request, true);
    let bytes = tokio::time::timeout(bound, fetch)
        .await
        .map_err(|_| CoreError::timeout("the server's thumbnail"))?
        .map_err(|e| errors::from_sdk(&e))?;
    download::save(bytes, dest).await
}
