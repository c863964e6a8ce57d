//! Media through matrix-sdk's send queue (`Timeline.send_media`), against
//! the real Synapse: a local echo at once with its upload progress, what
//! the receiver is told before downloading, a file queued while the server
//! is unreachable that is counted at a close and sent after the restore, and
//! one taken back with `cancel_send`.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/mirror.rs"]
mod mirror;
#[path = "support/session.rs"]
mod session;

#[path = "media/avatars.rs"]
mod avatars;

use std::sync::{Arc, Mutex, MutexGuard};

use futures_executor::block_on;
use matrix_mobile_core::{
    Client, CoreError, LogoutOptions, MediaKind, MessageContent, ProgressListener, SendState,
    TimelineItem, TimelineItemKind, UploadInfo,
};
use mirror::Mirror;
use session::{logged_in, wait, Drain, Proxied};

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct Progress {
    last: Mutex<Option<(u64, u64)>>,
}

impl ProgressListener for Progress {
    fn on_progress(&self, sent: u64, total: u64) {
        *self.last.lock().unwrap() = Some((sent, total));
    }
}

/// A media item as the tests look at it: its item id, kind, send state,
/// whether the server has it, and its type.
type MediaItem = (String, MediaKind, Option<SendState>, bool, Option<String>);

/// The media item whose body is `name`.
fn media(items: &[TimelineItem], name: &str) -> Option<MediaItem> {
    items.iter().find_map(|i| match &i.kind {
        TimelineItemKind::Event {
            content:
                MessageContent::Media {
                    kind,
                    body,
                    mimetype,
                    ..
                },
            send_state,
            event_id,
            ..
        } if body == name => Some((
            i.item_id.clone(),
            *kind,
            send_state.clone(),
            event_id.is_some(),
            mimetype.clone(),
        )),
        _ => None,
    })
}

fn sent(state: &Option<MediaItem>) -> bool {
    matches!(
        state,
        Some((_, _, Some(SendState::Sent { .. }), _, _)) | Some((_, _, None, true, _))
    )
}

/// An image with its dimensions, BlurHash and thumbnail: its local echo is
/// there when the call returns, its progress reaches its total, and the
/// other user gets an image he can download byte for byte.
#[test]
fn an_image_goes_through_the_send_queue_with_its_echo_progress_and_info() {
    let _serial = serial();
    let (alice, _session, dir) = logged_in("media-alice");
    let (bob, _bob_session, _bob_dir) = logged_in("media-bob");
    let room_id =
        block_on(alice.create_room("pictures".into(), vec![bob.user_id().unwrap()], true)).unwrap();
    block_on(bob.start_sync()).unwrap();
    wait("bob's invite", 20, || bob.room(room_id.clone()).is_ok());
    block_on(bob.join_room(room_id.clone())).unwrap();
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    let bob_timeline = block_on(bob.timeline(room_id)).unwrap();
    let bob_items = Mirror::<TimelineItem>::new();
    let _bob_sub = bob_timeline.observe(bob_items.clone()).unwrap();

    let image = dir.path().join("garden.png");
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&image, &bytes).unwrap();
    let thumbnail = dir.path().join("garden-small.png");
    std::fs::write(&thumbnail, &bytes[..4000]).unwrap();
    let progress = Arc::new(Progress::default());
    block_on(timeline.send_media(
        image.to_string_lossy().into_owned(),
        UploadInfo {
            width: Some(640),
            height: Some(480),
            blurhash: Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj".into()),
            thumbnail_path: Some(thumbnail.to_string_lossy().into_owned()),
            ..Default::default()
        },
        Some(progress.clone()),
    ))
    .unwrap();
    wait("the local echo", 5, || {
        media(&mirror.items(), "garden.png").is_some()
    });
    wait("the image sent", 60, || {
        sent(&media(&mirror.items(), "garden.png"))
    });
    wait("the upload's progress at its total", 10, || {
        progress
            .last
            .lock()
            .unwrap()
            .is_some_and(|(sent, total)| sent == total && total > 0)
    });

    let mut source = None;
    wait("the image in bob's timeline", 30, || {
        source = bob_items.items().iter().find_map(|i| match &i.kind {
            TimelineItemKind::Event {
                content:
                    MessageContent::Media {
                        kind: MediaKind::Image,
                        source,
                        mimetype,
                        size,
                        info,
                        ..
                    },
                ..
            } => Some((source.clone(), mimetype.clone(), *size, info.clone())),
            _ => None,
        });
        source.is_some()
    });
    let (source, mimetype, size, info) = source.unwrap();
    assert_eq!(mimetype.as_deref(), Some("image/png"));
    assert_eq!(size, Some(bytes.len() as u64));
    assert!(source.encrypted);
    // What alice said of it, as bob is told.
    assert_eq!((info.width, info.height), (Some(640), Some(480)));
    assert_eq!(
        info.blurhash.as_deref(),
        Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj")
    );
    assert_eq!(info.duration_ms, None);
    let small = info.thumbnail.expect("the sender's thumbnail");
    assert!(
        small.encrypted,
        "an encrypted room's thumbnail is encrypted"
    );
    let small_dest = dir.path().join("received-small.png");
    assert_eq!(
        block_on(bob.download_media(small.clone(), small_dest.to_string_lossy().into())).unwrap(),
        4000
    );
    assert_eq!(std::fs::read(&small_dest).unwrap(), &bytes[..4000]);
    // An encrypted file has no server thumbnail.
    assert!(matches!(
        block_on(bob.download_thumbnail(small, 32, 32, small_dest.to_string_lossy().into())),
        Err(CoreError::InvalidArgument { .. })
    ));
    let dest = dir.path().join("received.png");
    assert_eq!(
        block_on(bob.download_media(source, dest.to_string_lossy().into())).unwrap(),
        bytes.len() as u64
    );
    assert_eq!(std::fs::read(&dest).unwrap(), bytes);

    // Bad input: no such file, no such thumbnail, a thumbnail that is no image.
    let queue =
        |path: &str, info: UploadInfo| block_on(timeline.send_media(path.into(), info, None));
    assert!(matches!(
        queue("/no/such/file.png", UploadInfo::default()),
        Err(CoreError::InvalidArgument { .. })
    ));
    let image_path = image.to_string_lossy().into_owned();
    assert!(matches!(
        queue(
            &image_path,
            UploadInfo {
                thumbnail_path: Some("/no/such/thumb.png".into()),
                ..Default::default()
            }
        ),
        Err(CoreError::InvalidArgument { .. })
    ));
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not an image").unwrap();
    assert!(matches!(
        queue(
            &image_path,
            UploadInfo {
                thumbnail_path: Some(text.to_string_lossy().into_owned()),
                ..Default::default()
            }
        ),
        Err(CoreError::InvalidArgument { .. })
    ));

    block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    let report = block_on(bob.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

/// Offline: a queued file keeps its echo, is counted at a close, and is
/// sent after the restore; another is taken back with `cancel_send`.
#[test]
fn media_queued_offline_is_counted_kept_through_a_close_and_sent_or_taken_back() {
    let _serial = serial();
    let proxy = homeserver::FaultProxy::start();
    let name = session::user("media-offline");
    let dir = tempfile::TempDir::new().unwrap();
    let files = tempfile::TempDir::new().unwrap();
    let config = session::config(&proxy.url, dir.path());
    let alice = block_on(Client::create(config.clone())).unwrap();
    let kept = block_on(alice.login(name, session::PASSWORD.into(), None)).unwrap();
    let room_id = block_on(alice.create_room("offline media".into(), vec![], false)).unwrap();
    // Asked while the server is reachable; remembered afterwards.
    block_on(alice.max_upload_size()).unwrap();
    let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();

    proxy.die();
    for name in ["kept.bin", "taken-back.bin"] {
        let path = files.path().join(name);
        std::fs::write(&path, name.repeat(1000)).unwrap();
        block_on(timeline.send_media(
            path.to_string_lossy().into_owned(),
            UploadInfo::default(),
            None,
        ))
        .unwrap();
    }
    wait("both echoes", 5, || {
        media(&mirror.items(), "kept.bin").is_some()
            && media(&mirror.items(), "taken-back.bin").is_some()
    });
    let (echo, ..) = media(&mirror.items(), "taken-back.bin").unwrap();
    assert!(block_on(timeline.cancel_send(echo)).unwrap());
    wait("the taken-back echo to go", 10, || {
        media(&mirror.items(), "taken-back.bin").is_none()
    });
    assert!(!sent(&media(&mirror.items(), "kept.bin")));
    let report = block_on(alice.close(None)).unwrap();
    assert_eq!(report.unsent_messages, 1, "{report:?}");
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    drop((timeline, alice));

    proxy.set(homeserver::Fault::Pass);
    let alice = block_on(Client::create(config)).unwrap();
    block_on(alice.restore(kept)).unwrap();
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id)).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    wait("the kept file sent after the restore", 60, || {
        sent(&media(&mirror.items(), "kept.bin"))
    });
    assert!(media(&mirror.items(), "taken-back.bin").is_none());
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.unsent_messages, 0, "{report:?}");
    assert!(report.client_dropped, "{report:?}");
}

/// A logout, a close and a shutdown while an upload is stuck on a server
/// that swallows every byte: each keeps its promises (the matrix client
/// dropped, no store file open, no task or thread left), counts the upload
/// as unsent, and the upload never reaches the server afterwards.
#[test]
fn a_drain_with_an_upload_stuck_on_the_network_keeps_its_promises() {
    for drain in Drain::ALL {
        let _serial = serial();
        let what = format!("{drain:?}");
        let alice = Proxied::login("media-stuck");
        let (proxy, name) = (&alice.proxy, alice.name.clone());
        let files = tempfile::TempDir::new().unwrap();
        let room_id = block_on(alice.client.create_room("stuck".into(), vec![], false)).unwrap();
        block_on(alice.client.max_upload_size()).unwrap();
        let timeline = block_on(alice.client.timeline(room_id.clone())).unwrap();

        proxy.set(homeserver::Fault::Blackhole);
        let path = files.path().join("stuck.bin");
        std::fs::write(&path, vec![7u8; 2 * 1024 * 1024]).unwrap();
        let progress = Arc::new(Progress::default());
        block_on(timeline.send_media(
            path.to_string_lossy().into_owned(),
            UploadInfo::default(),
            Some(progress.clone()),
        ))
        .unwrap();
        wait("the upload under way", 20, || {
            progress
                .last
                .lock()
                .unwrap()
                .is_some_and(|(sent, _)| sent > 0)
        });

        if let Some(unsent) = drain.end(alice.client.clone()) {
            assert_eq!(unsent, 1, "{what}: the upload counted unsent");
        }
        assert_eq!(
            matrix_mobile_core::platform::open_files_under(alice.dir.path()),
            Some(0),
            "{what}"
        );
        drop(timeline);

        // Nothing of the client is left to finish the upload: with the
        // server back, the room never gets the file.
        proxy.set(homeserver::Fault::Pass);
        std::thread::sleep(std::time::Duration::from_secs(2)); // allowed: showing an absence
        let (other, _session, _other_dir) = logged_in_as(&name);
        block_on(other.start_sync()).unwrap();
        wait("the room on the other device", 30, || {
            other
                .rooms()
                .is_ok_and(|rooms| rooms.iter().any(|r| r.room_id == room_id))
        });
        let bodies: Vec<String> = block_on(other.recent_messages(room_id, 20))
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect();
        assert!(
            !bodies.iter().any(|b| b == "stuck.bin"),
            "{what}: {bodies:?}"
        );
        block_on(other.logout(LogoutOptions::default(), None)).unwrap();
    }
}

/// `name` logged in on a new device of its own.
fn logged_in_as(name: &str) -> (Arc<Client>, matrix_mobile_core::Session, tempfile::TempDir) {
    let dir = tempfile::TempDir::new().unwrap();
    let client = block_on(Client::create(session::config(
        &homeserver::url(),
        dir.path(),
    )))
    .unwrap();
    let kept = block_on(client.login(name.to_owned(), session::PASSWORD.into(), None)).unwrap();
    (client, kept, dir)
}

/// A file sent without a mimetype gets one guessed from its name, and the
/// kind that goes with it: an image, a video, an audio file, a plain file.
#[test]
fn the_kind_of_a_file_comes_from_its_guessed_mimetype() {
    let _serial = serial();
    let (alice, _session, _dir) = logged_in("media-kinds");
    let files = tempfile::TempDir::new().unwrap();
    let room_id = block_on(alice.create_room("kinds".into(), vec![], false)).unwrap();
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id)).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    let expected = [
        ("photo.png", MediaKind::Image, "image/png"),
        ("clip.mp4", MediaKind::Video, "video/mp4"),
        ("voice.ogg", MediaKind::Audio, "audio/ogg"),
        ("notes.pdf", MediaKind::File, "application/pdf"),
    ];
    for (name, ..) in expected {
        let path = files.path().join(name);
        std::fs::write(&path, name.repeat(100)).unwrap();
        block_on(timeline.send_file(path.to_string_lossy().into_owned(), None, None, None))
            .unwrap();
    }
    for (name, kind, mimetype) in expected {
        wait(name, 30, || sent(&media(&mirror.items(), name)));
        let (_, got, _, _, got_mime) = media(&mirror.items(), name).unwrap();
        assert_eq!(got, kind, "{name}");
        assert_eq!(got_mime.as_deref(), Some(mimetype), "{name}");
    }
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.unsent_messages, 0, "{report:?}");
}
