//! Room calls and `pause()`: a paused client has no open store, and calls
//! that need one say so with `InvalidState` ("call resume() first"), whether
//! they start after the pause or lose their stores to it half way. Never
//! matrix-sdk's raw "the store is closed".

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/session.rs"]
mod session;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::{CoreError, LogoutOptions};
use session::{logged_in, wait};

fn is_paused_error(error: &CoreError) -> bool {
    matches!(error, CoreError::InvalidState { detail } if detail.contains("resume()"))
}

#[test]
fn room_calls_on_a_paused_client_are_refused_until_resume() {
    let (client, _, _dir) = logged_in("pause-refuse");
    let room = block_on(client.create_room("paused".into(), vec![], false)).unwrap();
    block_on(client.pause()).unwrap();

    let sent = block_on(client.send_text(room.clone(), "while paused".into()));
    let read = block_on(client.recent_messages(room.clone(), 5));
    let created = block_on(client.create_room("another".into(), vec![], false));
    for (what, error) in [
        ("send_text", sent.err()),
        ("recent_messages", read.err()),
        ("create_room", created.err()),
    ] {
        let error = error.unwrap_or_else(|| panic!("{what} succeeded on a paused client"));
        assert!(is_paused_error(&error), "{what}: {error:?}");
    }

    block_on(client.resume()).unwrap();
    block_on(client.send_text(room.clone(), "after resume".into())).unwrap();
    let messages = block_on(client.recent_messages(room, 5)).unwrap();
    assert!(messages.iter().any(|m| m.body == "after resume"));
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0));
}

/// Regression (found by the lifecycle stress run): `recent_messages` racing
/// `pause()` returned `Storage { "The store is closed" }`.
#[test]
fn room_calls_racing_a_pause_never_see_a_closed_store() {
    let (client, _, _dir) = logged_in("pause-race");
    let room = block_on(client.create_room("raced".into(), vec![], false)).unwrap();
    block_on(client.send_text(room.clone(), "seed".into())).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let reads_ok = Arc::new(AtomicU32::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (client, room) = (client.clone(), room.clone());
            let (stop, reads_ok) = (stop.clone(), reads_ok.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match block_on(client.recent_messages(room.clone(), 10)) {
                        Ok(_) => {
                            reads_ok.fetch_add(1, Ordering::SeqCst);
                        }
                        // Refused before it began: wait a little for the resume.
                        Err(e) if is_paused_error(&e) => {
                            std::thread::sleep(Duration::from_millis(1))
                        }
                        Err(e) => panic!("recent_messages racing pause: {e:?}"),
                    }
                }
            })
        })
        .collect();
    for _ in 0..15 {
        // Pause while reads are in flight: after at least one more succeeded.
        let before = reads_ok.load(Ordering::SeqCst);
        wait("a read after resume", 30, || {
            reads_ok.load(Ordering::SeqCst) > before
        });
        block_on(client.pause()).unwrap();
        block_on(client.resume()).unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    for reader in readers {
        reader
            .join()
            .expect("a reader got an error other than `paused`");
    }
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0));
}
