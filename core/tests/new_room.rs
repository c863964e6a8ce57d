//! A room just created reads right at once: while sync runs, `create_room`
//! returns once sync has brought the room's name and encryption, so an app
//! that shows the room straight away never shows "Empty Room" or an
//! unencrypted room that is encrypted. Without sync it does not wait.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/session.rs"]
mod session;

use futures_executor::block_on;
use matrix_mobile_core::{LogoutOptions, SyncState};
use session::wait;

#[test]
fn a_room_created_while_sync_runs_has_its_name_and_encryption_at_once() {
    let (client, _session, _dir) = session::logged_in("newroom");
    block_on(client.start_sync()).unwrap();
    wait("sync to run", 30, || {
        client.sync_state() == SyncState::Running
    });
    for (name, encrypted) in [("plain room", false), ("secret room", true)] {
        let id = block_on(client.create_room(name.into(), vec![], encrypted)).unwrap();
        let room = client.room(id.clone()).unwrap();
        assert_eq!(room.name.as_deref(), Some(name), "{room:?}");
        assert_eq!(room.is_encrypted, encrypted, "{room:?}");
        assert!(client
            .rooms()
            .unwrap()
            .iter()
            .any(|r| r.room_id == id && r.name.as_deref() == Some(name)));
    }
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

/// Without sync nothing would bring the state, so `create_room` does not
/// wait for it: the room is known at once, unnamed until the app syncs.
#[test]
fn without_sync_the_room_is_known_and_its_state_comes_with_the_first_sync() {
    let (client, _session, _dir) = session::logged_in("newroomidle");
    let id = block_on(client.create_room("idle room".into(), vec![], true)).unwrap();
    let room = client.room(id.clone()).unwrap();
    assert_ne!(room.name.as_deref(), Some("idle room"), "{room:?}");
    block_on(client.start_sync()).unwrap();
    wait("the state by sync", 30, || {
        client
            .room(id.clone())
            .is_ok_and(|r| r.name.as_deref() == Some("idle room") && r.is_encrypted)
    });
    block_on(client.close(None)).unwrap();
}
