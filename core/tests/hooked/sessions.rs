//! A refresh of the access token racing a drain, pinned: the refresh holds
//! its new tokens (`session.saving`, matrix-sdk's save callback, with the
//! refresh's lock held) when a logout or a close begins.

use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::{hooks, Client, ClientState, CoreError, LogoutOptions};
use tempfile::TempDir;

use super::private_synapse::PrivateSynapse;
use super::session::{config, wait, PASSWORD};
use super::{homeserver, on_thread, serial, within, BOUND};

/// Seconds an access token lives on the private server.
const TOKEN_LIFETIME_S: u64 = 5;

/// A send that meets an expired token refreshes it; a logout, then a
/// close, begins while the refresh holds the new tokens. Both calls end,
/// the drain keeps every promise (the matrix client dropped, no store file
/// open, no task left), and the send either went out or got
/// `ClientClosed`.
#[test]
fn a_drain_during_a_token_refresh_keeps_its_promises() {
    let server = PrivateSynapse::with_token_lifetime(TOKEN_LIFETIME_S);
    for logout in [true, false] {
        let _s = serial();
        let name = homeserver::fresh_name("hkrf");
        homeserver::register_at(&server.url, &name, PASSWORD);
        let dir = TempDir::new().unwrap();
        let client = block_on(Client::create(config(&server.url, dir.path()))).unwrap();
        block_on(client.login(name, PASSWORD.into(), None)).unwrap();
        let room = block_on(client.create_room("refresh".into(), vec![], false)).unwrap();
        // The token expires on the server's clock; nothing to aim.
        std::thread::sleep(Duration::from_secs(TOKEN_LIFETIME_S + 1));

        let saving = hooks::pause_at("session.saving");
        let c = client.clone();
        let send = on_thread(move || block_on(c.send_text(room, "after the refresh".into())));
        assert!(saving.wait_reached(BOUND), "the send never refreshed");
        let c = client.clone();
        let drain = on_thread(move || {
            if logout {
                block_on(c.logout(LogoutOptions::default(), None)).map(|r| {
                    let s = format!("{r:?}");
                    (
                        r.client_dropped,
                        r.store_files_open_after,
                        r.tasks_left_behind,
                        s,
                    )
                })
            } else {
                block_on(c.close(None)).map(|r| {
                    let s = format!("{r:?}");
                    (
                        r.client_dropped,
                        r.store_files_open_after,
                        r.tasks_left_behind,
                        s,
                    )
                })
            }
        });
        wait("the drain to begin", 30, || {
            matches!(
                client.state(),
                ClientState::LoggingOut | ClientState::Closing
            )
        });
        saving.release();
        let (dropped, open, tasks, report) = within("the drain", &drain).unwrap();
        assert!(dropped, "{report}");
        assert_eq!(open, Some(0), "{report}");
        assert_eq!(tasks, 0, "{report}");
        let sent = within("the send", &send);
        assert!(
            matches!(sent, Ok(_) | Err(CoreError::ClientClosed)),
            "{sent:?}"
        );
        assert_eq!(client.state(), ClientState::Closed);
    }
}
