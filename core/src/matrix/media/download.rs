//! Downloads streamed to a file: the body goes to disk as it arrives
//! (decrypted on the way for encrypted files), so resident memory stays a
//! small constant whatever the file's size.
//!
//! The response's chunks cross a bounded channel to one blocking-pool
//! thread that decrypts, writes, `fsync`s and renames: no file I/O runs on a
//! runtime worker. Each download has its own temporary file beside `dest`
//! (opened with `create_new`), so two downloads to one `dest` never share
//! one; the last to finish wins the rename.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use matrix_sdk::bytes::Bytes;
use matrix_sdk::ruma::events::room::EncryptedFile;
use matrix_sdk::ruma::events::room::MediaSource as SdkMediaSource;
use tokio::sync::mpsc;

use super::http;
use crate::api::{CoreError, CoreResult};

/// Chunks in flight between the network and the writer (each at most a few
/// tens of KiB): the bound of a download's memory.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Longest wait for the response's headers, and then for each chunk.
const STALL: Duration = Duration::from_secs(60);

/// What the writer thread is sent.
enum Chunk {
    Data(Bytes),
    /// The body ended: anything short of this is a cancelled download.
    End,
}

/// Fetches `source` into `dest` (decrypting it if it is encrypted) through a
/// temporary file that is renamed into place; returns its size.
///
/// # Cancel safety
/// Dropping the future closes the channel: the writer stops, removes its
/// temporary file and leaves `dest` untouched.
pub(crate) async fn download(
    client: &matrix_sdk::Client,
    source: SdkMediaSource,
    dest: PathBuf,
) -> CoreResult<u64> {
    check_dest(&dest).await?;
    let (url, encryption) = match source {
        SdkMediaSource::Plain(url) => (url, None),
        SdkMediaSource::Encrypted(file) => (file.url.clone(), Some(*file)),
    };
    let mut response = request(client, &url).await?;
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let writer = tokio::task::spawn_blocking(move || write_file(&dest, rx, encryption));
    let sent = async {
        loop {
            let chunk = tokio::time::timeout(STALL, response.chunk())
                .await
                .map_err(|_| CoreError::timeout("downloading media"))?
                .map_err(|e| CoreError::Network {
                    detail: format!("downloading media: {e}"),
                })?;
            let chunk = match chunk {
                Some(bytes) => Chunk::Data(bytes),
                None => Chunk::End,
            };
            let end = matches!(chunk, Chunk::End);
            if tx.send(chunk).await.is_err() || end {
                return Ok::<(), CoreError>(());
            }
        }
    }
    .await;
    drop(tx);
    let written = writer
        .await
        .map_err(|e| CoreError::internal(format!("the download's writer: {e}")))?;
    sent?;
    written
}

/// `InvalidArgument` unless `dest`'s folder exists.
pub(crate) async fn check_dest(dest: &Path) -> CoreResult<()> {
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let is_dir = tokio::fs::metadata(&parent)
        .await
        .map(|m| m.is_dir())
        .unwrap_or(false);
    if !is_dir {
        return Err(CoreError::invalid_argument(format!(
            "dest_path: `{}` is not a directory",
            parent.display()
        )));
    }
    Ok(())
}

/// Writes `bytes` to `dest` as a download does (a temporary file of its
/// own, `fsync`, rename), on the blocking pool; returns the size.
pub(crate) async fn save(bytes: Vec<u8>, dest: PathBuf) -> CoreResult<u64> {
    let (tx, rx) = mpsc::channel(2);
    // Room for both: these sends never wait.
    let _ = tx.try_send(Chunk::Data(Bytes::from(bytes)));
    let _ = tx.try_send(Chunk::End);
    drop(tx);
    tokio::task::spawn_blocking(move || write_file(&dest, rx, None))
        .await
        .map_err(|e| CoreError::internal(format!("writing the file: {e}")))?
}

/// The authenticated media request for `url`, answered with a success
/// status; an expired token is refreshed once.
async fn request(
    client: &matrix_sdk::Client,
    url: &matrix_sdk::ruma::OwnedMxcUri,
) -> CoreResult<matrix_sdk::reqwest::Response> {
    let (server, media_id) = url
        .parts()
        .map_err(|e| CoreError::invalid_argument(format!("media url `{url}`: {e}")))?;
    let what = format!("downloading media `{url}`");
    let segments = [
        "_matrix",
        "client",
        "v1",
        "media",
        "download",
        server.as_str(),
        media_id,
    ];
    for may_refresh in [true, false] {
        // The client's own total timeout would cut a long body off: this
        // request is bounded by its stalls instead.
        let send = client
            .http_client()
            .get(http::endpoint(client, &segments)?)
            .bearer_auth(http::token(client)?)
            .timeout(Duration::from_secs(24 * 3600))
            .send();
        let response = tokio::time::timeout(STALL, send)
            .await
            .map_err(|_| CoreError::timeout("downloading media"))?
            .map_err(|e| http::network(&what, e))?;
        if let http::Answer::Ok(response) =
            http::answer(client, response, may_refresh, &what).await?
        {
            return Ok(response);
        }
    }
    Err(CoreError::Auth {
        detail: format!("{what}: the refreshed token was refused too"),
    })
}

/// A numbered temporary file beside `dest`, never another download's.
fn temporary_for(dest: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".to_owned());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dest.with_file_name(format!(".{name}.mmc-partial-{}-{n}", std::process::id()))
}

/// The writer's whole job, on a blocking-pool thread: the chunks (decrypted
/// if `encryption` says so) into a temporary file, `fsync`, rename into
/// place. The temporary file is removed when anything fails.
fn write_file(
    dest: &Path,
    chunks: mpsc::Receiver<Chunk>,
    encryption: Option<EncryptedFile>,
) -> CoreResult<u64> {
    let tmp = temporary_for(dest);
    let written = (|| -> CoreResult<u64> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| CoreError::storage(format!("creating `{}`: {e}", tmp.display())))?;
        let mut reader = ChunkReader {
            chunks,
            current: Bytes::new(),
            ended: false,
        };
        let size = match encryption {
            None => copy(&mut reader, &mut file)?,
            Some(info) => {
                let mut decryptor =
                    matrix_sdk_crypto::AttachmentDecryptor::new(&mut reader, info.into())
                        .map_err(|e| CoreError::invalid_argument(format!("media keys: {e}")))?;
                copy(&mut decryptor, &mut file)?
            }
        };
        file.sync_all()
            .map_err(|e| CoreError::storage(format!("writing `{}`: {e}", tmp.display())))?;
        std::fs::rename(&tmp, dest)
            .map_err(|e| CoreError::storage(format!("writing `{}`: {e}", dest.display())))?;
        Ok(size)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `std::io::copy` with the core's errors: a read that fails is the
/// download's (cancelled, cut off, or content that does not match its hash),
/// a write that fails is the disk's.
fn copy(from: &mut impl Read, to: &mut std::fs::File) -> CoreResult<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(CoreError::Network {
                    detail: format!("downloading media: {e}"),
                })
            }
            // The content does not match its keys or its hash.
            Err(e) => return Err(CoreError::internal(format!("media content: {e}"))),
        };
        to.write_all(&buf[..n])
            .map_err(|e| CoreError::storage(format!("writing the download: {e}")))?;
        total += n as u64;
    }
}

/// The channel's chunks as a [`Read`]: end of file at [`Chunk::End`], an
/// `UnexpectedEof` error when the sender went away before it.
struct ChunkReader {
    chunks: mpsc::Receiver<Chunk>,
    current: Bytes,
    ended: bool,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.chunks.blocking_recv() {
                Some(Chunk::Data(bytes)) => self.current = bytes,
                Some(Chunk::End) => self.ended = true,
                None => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the download stopped before its end",
                    ))
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
