//! Every exported async call is cancel-safe at every await point.
//!
//! Each test drops a call's future after its Nth poll, for N = 0, 1, 2, …
//! until the call completes, as a foreign executor does when the app
//! cancels. After each drop the process invariants hold: the live-client
//! count, the files open under the data dirs, the client's state, and no task
//! left after a shutdown.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/mirror.rs"]
mod mirror;
#[path = "support/poll.rs"]
mod poll;
#[path = "support/session.rs"]
mod session;

#[path = "cancellation/media.rs"]
mod media;
#[path = "cancellation/people.rs"]
mod people;

use std::sync::{Mutex, MutexGuard};

use futures_executor::block_on;
use matrix_mobile_core::platform::open_files_under;
use matrix_mobile_core::{
    runtime_stats, shutdown, shutdown_blocking, Client, ClientState, LogoutOptions, RuntimeState,
    ShutdownOptions,
};
use poll::{poll_then_drop, poll_then_drop_at_wake};
use session::{config, logged_in, user, wait, wait_call_ended, PASSWORD};
use tempfile::TempDir;

/// Most polls any call needs here; a call still pending after this many is a bug.
const MAX_POLLS: usize = 64;

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Shuts the core down and checks that nothing is left of any client.
fn assert_process_clean() {
    let report = shutdown_blocking(ShutdownOptions { timeout_ms: 10_000 }).unwrap();
    assert!(report.tasks_abandoned.is_empty(), "{report:?}");
    let stats = runtime_stats();
    assert_eq!(stats.live_clients, 0, "{stats:?}");
    assert_eq!(stats.alive_tasks, 0, "{stats:?}");
    assert_eq!(report.threads_left, Some(0));
}

/// A named call that says whether it succeeded, made anew for each try.
type Call<'a> =
    Box<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + 'a>> + 'a>;

/// Drops each of `calls` after every poll count until it completes: a
/// completed call succeeded, and after each drop the call has ended and
/// `client` is still logged in.
fn cancel_each_at_every_poll(client: &Client, calls: &[(&str, Call)]) {
    for (name, call) in calls {
        for_every_poll_count(name, |n| {
            let outcome = poll_then_drop(name, call(), n);
            if let Some(ok) = outcome {
                assert!(ok, "{name} failed after {n} polls");
            }
            wait_call_ended(name);
            assert_eq!(
                client.state(),
                ClientState::LoggedIn,
                "{name} after {n} polls"
            );
            outcome.is_some()
        });
    }
}

/// Runs `scenario(n)` for n = 0, 1, 2, … until it reports that the call completed.
fn for_every_poll_count(what: &str, mut scenario: impl FnMut(usize) -> bool) {
    for n in 0..MAX_POLLS {
        if scenario(n) {
            return;
        }
    }
    panic!("{what} did not complete within {MAX_POLLS} polls");
}

/// Regression: 24 creates cancelled half way left `live_clients` at 24, so
/// no logout was ever the last one again.
#[test]
fn a_cancelled_create_leaves_no_live_client_and_frees_its_data_dir() {
    let _s = serial();
    for_every_poll_count("create", |n| {
        let dir = TempDir::new().unwrap();
        let created = poll_then_drop(
            "create",
            Client::create(config(&homeserver::url(), dir.path())),
            n,
        );
        let done = created.is_some();
        drop(created);
        wait("the cancelled client to be closed", 30, || {
            runtime_stats().live_clients == 0
        });
        assert_eq!(open_files_under(dir.path()), Some(0), "after {n} polls");
        // The directory is free for a new client at once.
        let again = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
        block_on(again.close(None)).unwrap();
        done
    });
    assert_process_clean();
}

/// Where a cancellation lands: right after the Nth poll, or once the work
/// has answered but before the caller polled again.
#[derive(Debug, Clone, Copy)]
enum When {
    AfterThePoll,
    AtTheWake,
}

fn drop_call<F: std::future::Future>(
    when: When,
    what: &str,
    call: F,
    n: usize,
) -> Option<F::Output> {
    match when {
        When::AfterThePoll => poll_then_drop(what, call, n),
        When::AtTheWake => poll_then_drop_at_wake(what, call, n),
    }
}

const DROPS: [When; 2] = [When::AfterThePoll, When::AtTheWake];

/// Either `LoggedIn` with a session, or `Created` without one: never in between.
fn assert_session_matches_state(client: &Client, context: &str) {
    match client.state() {
        ClientState::LoggedIn => assert!(client.session().is_some(), "{context}"),
        ClientState::Created => {
            assert!(
                client.session().is_none(),
                "{context}: a session, yet Created"
            )
        }
        other => panic!("{context}: the client is {other:?}"),
    }
}

/// Regression: a login cancelled after the server answered left the client
/// `Created` while matrix-sdk was logged in, and the session never reached
/// the app (an orphaned device).
#[test]
fn a_cancelled_login_either_completes_or_leaves_the_client_created() {
    let _s = serial();
    let name = user("lena");
    for when in DROPS {
        for_every_poll_count("login", |n| {
            let dir = TempDir::new().unwrap();
            let client = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
            let login = client.login(name.clone(), PASSWORD.into(), None);
            let done = drop_call(when, "login", login, n)
                .map(|r| r.unwrap())
                .is_some();
            wait_call_ended("login");
            wait_call_ended("login-session");
            assert_session_matches_state(&client, &format!("{when:?} after {n} polls"));
            if client.state() == ClientState::LoggedIn {
                block_on(client.logout(LogoutOptions::default(), None)).unwrap();
            } else {
                block_on(client.close(None)).unwrap();
            }
            done
        });
    }
    assert_process_clean();
}

#[test]
fn a_cancelled_restore_either_completes_or_leaves_the_client_created() {
    let _s = serial();
    let (first, session, dir) = logged_in("rosa");
    block_on(first.close(None)).unwrap();
    for when in DROPS {
        for_every_poll_count("restore", |n| {
            let client = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
            let restore = client.restore(session.clone());
            let done = drop_call(when, "restore", restore, n)
                .map(|r| r.unwrap())
                .is_some();
            wait_call_ended("restore");
            assert_session_matches_state(&client, &format!("{when:?} after {n} polls"));
            block_on(client.close(None)).unwrap();
            done
        });
    }
    assert_process_clean();
}

/// Cancelled sync, room and message calls leave a client that works, and
/// whose logout still drains everything.
#[test]
fn cancelled_client_calls_leave_a_working_client() {
    let _s = serial();
    let (client, _, dir) = logged_in("cato");
    let room = block_on(client.create_room("r".into(), vec![], false)).unwrap();
    let calls: Vec<(&str, Call)> = vec![
        (
            "start_sync",
            Box::new(|| Box::pin(async { client.start_sync().await.is_ok() })),
        ),
        (
            "stop_sync",
            Box::new(|| Box::pin(async { client.stop_sync().await.is_ok() })),
        ),
        (
            "create_room",
            Box::new(|| {
                Box::pin(async { client.create_room("c".into(), vec![], false).await.is_ok() })
            }),
        ),
        (
            "send_text",
            Box::new(|| {
                Box::pin(async { client.send_text(room.clone(), "hi".into()).await.is_ok() })
            }),
        ),
        (
            "recent_messages",
            Box::new(|| Box::pin(async { client.recent_messages(room.clone(), 5).await.is_ok() })),
        ),
        (
            "set_pusher",
            Box::new(|| {
                Box::pin(async {
                    let pusher = matrix_mobile_core::PusherConfig {
                        app_id: "org.example.cancel".into(),
                        pushkey: "cancel-key".into(),
                        gateway_url: "http://127.0.0.1:9/_matrix/push/v1/notify".into(),
                        device_name: "d".into(),
                        lang: "en".into(),
                        format: None,
                        default_payload_json: None,
                    };
                    client.set_pusher(pusher).await.is_ok()
                })
            }),
        ),
        (
            "remove_pusher",
            Box::new(|| {
                Box::pin(async { client.remove_pusher("cancel-key".into()).await.is_ok() })
            }),
        ),
        (
            "pause",
            Box::new(|| Box::pin(async { client.pause().await.is_ok() })),
        ),
        (
            "resume",
            Box::new(|| Box::pin(async { client.resume().await.is_ok() })),
        ),
    ];
    cancel_each_at_every_poll(&client, &calls);
    // Leave the client resumed and syncing, then check that it still works.
    block_on(client.resume()).unwrap();
    block_on(client.start_sync()).unwrap();
    block_on(client.send_text(room.clone(), "still works".into())).unwrap();
    drop(calls);
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0));
    assert!(!dir.path().exists());
    assert_process_clean();
}

/// The chat surface's calls, each cancelled after every poll count: a
/// cancelled `send_text` is either queued (and sent) or leaves nothing, a
/// cancelled pagination or timeline build leaves everything usable.
#[test]
fn cancelled_timeline_calls_keep_their_promises() {
    let _s = serial();
    let (client, _, _dir) = logged_in("tilda");
    let room = block_on(client.create_room("t".into(), vec![], false)).unwrap();
    for i in 0..10 {
        block_on(client.send_text(room.clone(), format!("old {i}"))).unwrap();
    }
    block_on(client.start_sync()).unwrap();
    for_every_poll_count("timeline", |n| {
        let built = poll_then_drop("timeline", client.timeline(room.clone()), n);
        wait_call_ended("timeline");
        built.is_some()
    });
    let timeline = block_on(client.timeline(room.clone())).unwrap();
    let mut queued = Vec::new();
    let mut left_nothing = Vec::new();
    for_every_poll_count("timeline_send_text", |n| {
        let body = format!("cancelled after {n} polls");
        let outcome = poll_then_drop(
            "timeline_send_text",
            timeline.send_text(body.clone(), None),
            n,
        );
        wait_call_ended("timeline_send_text");
        // Polled at least once, the call has begun and queues its message.
        if n == 0 {
            left_nothing.push(body);
        } else {
            queued.push(body);
        }
        outcome.is_some()
    });
    assert!(!queued.is_empty());
    wait("every begun send to reach the server", 30, || {
        let sent: Vec<String> = block_on(client.recent_messages(room.clone(), 100))
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect();
        queued.iter().all(|b| sent.contains(b))
    });
    let sent: Vec<String> = block_on(client.recent_messages(room.clone(), 100))
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    for body in &left_nothing {
        assert!(!sent.contains(body), "{body} was sent, though never begun");
    }
    for_every_poll_count("paginate_backwards", |n| {
        let outcome = poll_then_drop("paginate_backwards", timeline.paginate_backwards(5), n);
        wait_call_ended("paginate_backwards");
        outcome.is_some()
    });
    // The timeline is still usable: it paginates to the start of the room.
    let mut at_start = false;
    for _ in 0..10 {
        if block_on(timeline.paginate_backwards(20)).unwrap() {
            at_start = true;
            break;
        }
    }
    assert!(
        at_start,
        "pagination after the cancelled ones never reached the start"
    );
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert_eq!(report.unsent_messages, 0, "{report:?}");
    drop(timeline);
    assert_process_clean();
}

/// A cancelled logout or close completes its drain in the background.
#[test]
fn a_cancelled_logout_or_close_completes_its_drain() {
    let _s = serial();
    for logout in [true, false] {
        for_every_poll_count("logout/close", |n| {
            let (client, _, dir) = logged_in("lola");
            let generation = runtime_stats().generation;
            let done = if logout {
                poll_then_drop("logout", client.logout(LogoutOptions::default(), None), n)
                    .map(|r| r.unwrap())
                    .is_some()
            } else {
                poll_then_drop("close", client.close(None), n)
                    .map(|r| r.unwrap())
                    .is_some()
            };
            if n > 0 {
                // The first poll started the drain: it finishes without us,
                // with the restart that ends the last client's runtime.
                // Its end: the client is no longer live (it lets go of its
                // data_dir last, after the restart).
                wait("the drain", 30, || {
                    let stats = runtime_stats();
                    stats.generation > generation
                        && stats.state == RuntimeState::Running
                        && stats.live_clients == 0
                });
                assert_eq!(client.state(), ClientState::Closed);
                assert_eq!(open_files_under(dir.path()), Some(0));
                assert_eq!(dir.path().exists(), !logout);
            } else {
                // Never polled: nothing started, the client is untouched.
                assert_eq!(client.state(), ClientState::LoggedIn);
                block_on(client.close(None)).unwrap();
            }
            done
        });
    }
    assert_process_clean();
}

/// A cancelled shutdown still shuts down.
#[test]
fn a_cancelled_shutdown_still_completes() {
    let _s = serial();
    for_every_poll_count("shutdown", |n| {
        let (client, _, dir) = logged_in("sam");
        let done = poll_then_drop("shutdown", shutdown(ShutdownOptions::default()), n)
            .map(|r| r.unwrap())
            .is_some();
        if n > 0 {
            wait("the shutdown", 30, || {
                runtime_stats().state == RuntimeState::ShutDown
            });
            assert_eq!(client.state(), ClientState::Closed);
            assert_eq!(open_files_under(dir.path()), Some(0));
        } else {
            block_on(client.close(None)).unwrap();
        }
        done
    });
    assert_process_clean();
}
