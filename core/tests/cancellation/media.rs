//! Media calls cancelled after every poll count: uploads (`send_file`,
//! `send_media`) and thumbnail downloads.

use futures_executor::block_on;
use matrix_mobile_core::{
    LogoutOptions, MessageContent, TimelineItem, TimelineItemKind, UploadInfo,
};
use tempfile::TempDir;

use super::mirror::Mirror;
use super::poll::poll_then_drop;
use super::session::{logged_in, wait, wait_call_ended};
use super::{assert_process_clean, for_every_poll_count, serial};

/// Uploads cancelled after every poll count: a cancelled `send_file` leaves
/// no local echo behind (its file is sent or gone), a `send_media` that has
/// begun is queued and sent, one never polled sends nothing; and the logout
/// afterwards has nothing unsent and ends every task.
#[test]
fn cancelled_uploads_keep_their_promises() {
    let _s = serial();
    let (client, _, _dir) = logged_in("upla");
    let files = TempDir::new().unwrap();
    let room = block_on(client.create_room("uploads".into(), vec![], false)).unwrap();
    block_on(client.start_sync()).unwrap();
    let timeline = block_on(client.timeline(room.clone())).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    let file = |name: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, name.repeat(20_000)).unwrap();
        path.to_string_lossy().into_owned()
    };

    let mut files_tried = Vec::new();
    for_every_poll_count("send_file", |n| {
        let name = format!("file-{n}.bin");
        let outcome = poll_then_drop(
            "send_file",
            timeline.send_file(file(&name), None, None, None),
            n,
        );
        wait_call_ended("send_file");
        files_tried.push(name);
        outcome.is_some_and(|r| r.is_ok())
    });
    let (mut queued, mut never_begun) = (Vec::new(), Vec::new());
    for_every_poll_count("send_media", |n| {
        let name = format!("media-{n}.bin");
        let outcome = poll_then_drop(
            "send_media",
            timeline.send_media(file(&name), UploadInfo::default(), None),
            n,
        );
        wait_call_ended("send_media");
        // Polled at least once, the call has begun and queues its file.
        if n == 0 {
            never_begun.push(name);
        } else {
            queued.push(name);
        }
        outcome.is_some_and(|r| r.is_ok())
    });

    // Media items by name: whether the server has each (its event id).
    let media = || -> Vec<(String, bool)> {
        mirror
            .items()
            .iter()
            .filter_map(|item| match &item.kind {
                TimelineItemKind::Event {
                    content: MessageContent::Media { body, .. },
                    event_id,
                    ..
                } => Some((body.clone(), event_id.is_some())),
                _ => None,
            })
            .collect()
    };
    let sent = || -> Vec<String> {
        media()
            .into_iter()
            .filter(|(_, sent)| *sent)
            .map(|(body, _)| body)
            .collect()
    };
    wait("every begun send_media to reach the server", 60, || {
        let sent = sent();
        queued.iter().all(|b| sent.contains(b))
    });
    // No cancelled send_file left an echo that will never be sent, and
    // nothing never begun was sent.
    wait("every media item sent", 30, || {
        media().iter().all(|(_, sent)| *sent)
    });
    let sent = sent();
    for name in &never_begun {
        assert!(!sent.contains(name), "{name} was sent, though never begun");
    }
    assert!(
        files_tried.iter().any(|f| sent.contains(f)),
        "the completed send_file is not in the room: {sent:?}"
    );
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.unsent_messages, 0, "{report:?}");
    assert!(report.client_dropped, "{report:?}");
    drop(timeline);
    assert_process_clean();
}

/// Thumbnail downloads cancelled after every poll count: `dest_path` is
/// then absent or the whole thumbnail, never part of one, and no temporary
/// file is left beside it; the logout afterwards ends every task.
#[test]
fn cancelled_thumbnail_downloads_leave_whole_files_or_none() {
    let _s = serial();
    let (client, _, _dir) = logged_in("thumb-cancel");
    let files = TempDir::new().unwrap();
    let room = block_on(client.create_room("thumbnails".into(), vec![], false)).unwrap();
    block_on(client.start_sync()).unwrap();
    let timeline = block_on(client.timeline(room)).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    let png = files.path().join("avatar.png");
    std::fs::write(&png, include_bytes!("../support/avatar.png")).unwrap();
    block_on(timeline.send_media(png.to_string_lossy().into(), UploadInfo::default(), None))
        .unwrap();
    let mut source = None;
    wait("the image sent", 60, || {
        source = mirror.items().iter().find_map(|i| match &i.kind {
            TimelineItemKind::Event {
                event_id: Some(_),
                content: MessageContent::Media { source, .. },
                ..
            } => Some(source.clone()),
            _ => None,
        });
        source.is_some()
    });
    let source = source.unwrap();
    let whole = files.path().join("whole");
    let size =
        block_on(client.download_thumbnail(source.clone(), 48, 48, whole.to_string_lossy().into()))
            .unwrap();
    let thumbnail = std::fs::read(&whole).unwrap();
    assert_eq!(size, thumbnail.len() as u64);

    let downloads = TempDir::new().unwrap();
    // Each size once uncached (the server's), then from the media store.
    for (width, from) in [(24, "server"), (48, "media store")] {
        for_every_poll_count("download_thumbnail", |n| {
            let dest = downloads.path().join(format!("{from}-{n}"));
            let call = client.download_thumbnail(
                source.clone(),
                width,
                width,
                dest.to_string_lossy().into(),
            );
            let outcome = poll_then_drop("download_thumbnail", call, n);
            wait_call_ended("download_thumbnail");
            // The writer runs on the blocking pool and may finish after the
            // call is gone: nothing partial stays once it has.
            wait("no temporary file left", 10, || {
                std::fs::read_dir(downloads.path())
                    .unwrap()
                    .all(|e| !e.unwrap().file_name().to_string_lossy().contains("partial"))
            });
            if let Ok(written) = std::fs::read(&dest) {
                assert!(!written.is_empty(), "{from} after {n} polls");
                if width == 48 {
                    assert_eq!(written, thumbnail, "{from} after {n} polls");
                }
            }
            outcome.is_some_and(|r| r.is_ok())
        });
    }
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert!(report.client_dropped, "{report:?}");
    assert_eq!(report.tasks_left_behind, 0, "{report:?}");
    drop(timeline);
    assert_process_clean();
}
