//! Media files: the server's upload limit, files read for upload within it,
//! and downloads streamed to disk ([`download`]).

pub(crate) mod download;

use std::io::Read;
use std::path::PathBuf;

use crate::api::{CoreError, CoreResult};
use crate::matrix::errors;

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
        let file = std::fs::File::open(&path)
            .map_err(|e| CoreError::invalid_argument(format!("file `{shown}`: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| CoreError::invalid_argument(format!("file `{shown}`: {e}")))?;
        if !meta.is_file() {
            return Err(CoreError::invalid_argument(format!(
                "`{shown}` is not a regular file"
            )));
        }
        let too_large = |size: u64| {
            CoreError::invalid_argument(format!(
                "`{shown}` is {size} bytes, over the server's upload limit of {limit} bytes"
            ))
        };
        if meta.len() > limit {
            return Err(too_large(meta.len()));
        }
        let mut data = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.take(limit.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| CoreError::invalid_argument(format!("reading `{shown}`: {e}")))?;
        if data.len() as u64 > limit {
            return Err(too_large(data.len() as u64));
        }
        Ok(data)
    });
    read.await
        .map_err(|e| CoreError::internal(format!("reading the file: {e}")))?
}
