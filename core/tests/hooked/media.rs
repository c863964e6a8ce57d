//! Fixed-order races of media calls with the drains: a drain while a
//! thumbnail download or an avatar upload waits for the server's answer.
//! The request is held in flight by the fault proxy and seen in flight by
//! the watch proxy (as in `chat.rs`); no sync runs, so the request in
//! flight is the call's own.

use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::platform::open_files_under;
use matrix_mobile_core::CoreError;

use super::chat::Proxied;
use super::session::Drain;
use super::{homeserver, on_thread, serial, within};

/// A 64 x 64 PNG.
const AVATAR_PNG: &[u8] = include_bytes!("../support/avatar.png");

/// The calls held in flight.
#[derive(Debug, Clone, Copy)]
enum Call {
    Thumbnail,
    AvatarUpload,
}

/// A drain while a thumbnail download or an avatar upload waits for the
/// server: the call returns (its result or `ClientClosed`), and the drain
/// keeps every promise (`Drain::end` asserts the matrix client dropped, no
/// store file open, no task or thread left), and no file under the client's
/// `data_dir` stays open.
#[test]
fn a_drain_during_a_thumbnail_download_or_an_avatar_upload_keeps_its_promises() {
    for drain in Drain::ALL {
        for call in [Call::Thumbnail, Call::AvatarUpload] {
            let _s = serial();
            let what = format!("{drain:?} during {call:?}");
            let alice = Proxied::login("hk-media");
            // Outside data_dir, which a logout wipes.
            let files = tempfile::tempdir().unwrap();
            let png = files.path().join("avatar.png");
            std::fs::write(&png, AVATAR_PNG).unwrap();
            let png = png.to_string_lossy().into_owned();
            // An image on the server, for the thumbnail.
            block_on(alice.client.set_avatar(Some(png.clone()), None)).unwrap();
            let own = alice.client.user_id().unwrap();
            let source = block_on(alice.client.profile(own))
                .unwrap()
                .avatar
                .expect("the avatar just set");
            let dest = files.path().join("thumbnail.png");
            let dest = dest.to_string_lossy().into_owned();
            alice.wait_none_in_flight();

            alice.hold_answers(Duration::from_secs(3));
            let client = alice.client.clone();
            let pending = on_thread(move || match call {
                Call::Thumbnail => {
                    block_on(client.download_thumbnail(source, 32, 32, dest)).map(drop)
                }
                Call::AvatarUpload => block_on(client.set_avatar(Some(png), None)),
            });
            alice.wait_in_flight("the call's request in flight");
            alice.faults.set(homeserver::Fault::Pass);

            drain.end(alice.client.clone());
            let outcome = within("the call", &pending);
            assert!(
                matches!(outcome, Ok(()) | Err(CoreError::ClientClosed)),
                "{what}: {outcome:?}"
            );
            assert_eq!(open_files_under(alice.dir.path()), Some(0), "{what}");
        }
    }
}
