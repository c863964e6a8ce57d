//! Uploads streamed from a file: read (and, for an encrypted room,
//! encrypted) chunk by chunk on one blocking-pool thread, and sent as they
//! come, so resident memory stays a small constant whatever the file's size
//! (matrix-sdk's upload holds the whole body, and a clone of it for its
//! retries). AES-CTR keeps the length, so the request's `Content-Length` is
//! the file's.

use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use matrix_sdk::bytes::Bytes;
use matrix_sdk::ruma::events::room::{EncryptedFile, MediaSource};
use matrix_sdk::ruma::OwnedMxcUri;
use matrix_sdk_crypto::{AttachmentEncryptor, MediaEncryptionInfo};
use tokio::sync::mpsc;

use super::http;
use crate::api::{CoreError, CoreResult};

/// Bytes read at a time, and chunks in flight: the bound of an upload's
/// memory.
const CHUNK: usize = 64 * 1024;
const CHUNKS_IN_FLIGHT: usize = 8;

/// A progress report: `(sent, total)` in bytes.
pub(crate) type Report = Box<dyn Fn(u64, u64) + Send + Sync>;

/// Uploads the file at `path` (refused with `InvalidArgument` over
/// `limit`, before a byte is read), encrypted when `encrypt`; `report`
/// hears the bytes sent. Returns where the file now is.
///
/// # Cancel safety
/// Dropping the future drops the request and closes the channel: the
/// reader stops at its next chunk.
pub(crate) async fn upload_file(
    client: &matrix_sdk::Client,
    path: PathBuf,
    mime: &mime::Mime,
    encrypt: bool,
    limit: u64,
    report: Option<Report>,
) -> CoreResult<MediaSource> {
    let size = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            super::open_within(&path, limit)?
                .metadata()
                .map(|m| m.len())
                .map_err(|e| CoreError::invalid_argument(format!("file: {e}")))
        })
        .await
        .map_err(|e| CoreError::internal(format!("reading the file: {e}")))??
    };
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let content_type = if encrypt {
        mime::APPLICATION_OCTET_STREAM.to_string()
    } else {
        mime.essence_str().to_owned()
    };
    let report: Arc<Option<Report>> = Arc::new(report);
    let what = format!("uploading `{filename}`");
    for may_refresh in [true, false] {
        let keys = Arc::new(Mutex::new(None));
        let (body, reader) = read_chunks(
            path.clone(),
            size,
            limit,
            encrypt,
            keys.clone(),
            report.clone(),
        );
        let mut endpoint = http::endpoint(client, &["_matrix", "media", "v3", "upload"])?;
        endpoint
            .query_pairs_mut()
            .append_pair("filename", &filename);
        let send = client
            .http_client()
            .post(endpoint)
            .bearer_auth(http::token(client)?)
            .header("Content-Type", &content_type)
            .header("Content-Length", size)
            .timeout(upload_timeout(size))
            .body(body)
            .send();
        let response = send.await.map_err(|e| {
            if e.is_timeout() {
                CoreError::timeout("uploading media")
            } else {
                http::network(&what, e)
            }
        })?;
        let http::Answer::Ok(response) = http::answer(client, response, may_refresh, &what).await?
        else {
            continue;
        };
        let text = response.text().await.map_err(|e| http::network(&what, e))?;
        let uri = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("content_uri")?.as_str().map(OwnedMxcUri::from))
            .ok_or_else(|| CoreError::Server {
                status: 200,
                errcode: String::new(),
                detail: format!("{what}: no content_uri in the answer"),
            })?;
        // The keys are complete once the reader has read the whole file.
        let _ = reader.await;
        return Ok(if encrypt {
            let keys: Option<MediaEncryptionInfo> =
                keys.lock().unwrap_or_else(|p| p.into_inner()).take();
            let keys = keys.ok_or_else(|| {
                CoreError::internal(format!("{what}: the server answered before the file ended"))
            })?;
            MediaSource::Encrypted(Box::new(EncryptedFile::new(
                uri,
                keys.encryption_info,
                keys.hashes,
            )))
        } else {
            MediaSource::Plain(uri)
        });
    }
    Err(CoreError::Auth {
        detail: format!("{what}: the refreshed token was refused too"),
    })
}

/// The request's body: the file's chunks (encrypted when `encrypt`), read
/// by a blocking-pool thread that leaves the keys in `keys` once the whole
/// file went through. A file that is not `size` bytes when read (it
/// changed meanwhile) fails the body, so the server keeps nothing.
fn read_chunks(
    path: PathBuf,
    size: u64,
    limit: u64,
    encrypt: bool,
    keys: Arc<Mutex<Option<MediaEncryptionInfo>>>,
    report: Arc<Option<Report>>,
) -> (matrix_sdk::reqwest::Body, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(CHUNKS_IN_FLIGHT);
    let reader = tokio::task::spawn_blocking(move || {
        let file = match super::open_within(&path, limit) {
            Ok(file) => file,
            Err(e) => {
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                return;
            }
        };
        let mut plain = file.take(limit.saturating_add(1));
        let pumped = if encrypt {
            let mut encryptor = AttachmentEncryptor::new(&mut plain);
            let pumped = pump(&mut encryptor, size, &tx, &report);
            if pumped.is_ok() {
                *keys.lock().unwrap_or_else(|p| p.into_inner()) = Some(encryptor.finish());
            }
            pumped
        } else {
            pump(&mut plain, size, &tx, &report)
        };
        if let Err(Some(e)) = pumped {
            let _ = tx.blocking_send(Err(e));
        }
    });
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    (matrix_sdk::reqwest::Body::wrap_stream(chunks), reader)
}

/// Sends `reader`'s chunks into `tx` until its end; `Err(None)` when the
/// request went away, `Err(Some(why))` when the file could not be read or
/// was not `size` bytes.
fn pump(
    reader: &mut impl Read,
    size: u64,
    tx: &mpsc::Sender<std::io::Result<Bytes>>,
    report: &Option<Report>,
) -> Result<(), Option<std::io::Error>> {
    let mut sent = 0u64;
    loop {
        let mut buf = vec![0u8; CHUNK];
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Some(e)),
        };
        sent += n as u64;
        if sent > size {
            return Err(Some(std::io::Error::other(
                "the file grew while it was sent",
            )));
        }
        buf.truncate(n);
        tx.blocking_send(Ok(Bytes::from(buf))).map_err(|_| None)?;
        if let Some(report) = report {
            report(sent, size);
        }
    }
    if sent != size {
        return Err(Some(std::io::Error::other(
            "the file shrank while it was sent",
        )));
    }
    Ok(())
}

/// How long an upload of `size` bytes may take: a minute, plus a second for
/// each 64 KiB (a slow mobile link).
fn upload_timeout(size: u64) -> Duration {
    Duration::from_secs(60 + size / (64 * 1024))
}
