//! `shutdown()` racing `get_notification`: a short-lived notification
//! client held with the `data_dir` claimed (`notification.claimed`), and a
//! second call waiting for its turn behind it; and racing an open
//! `NotificationFetcher`.

use futures_executor::block_on;
use matrix_mobile_core::hooks;
use matrix_mobile_core::platform::open_files_under;
use matrix_mobile_core::{
    get_notification, notification_fetcher, shutdown_blocking, CoreError, NotificationItem,
    Session, SessionStore, ShutdownOptions, ShutdownReport,
};
use tempfile::TempDir;

use super::session::{config, user, PASSWORD};
use super::{create, homeserver, on_thread, serial, within, BOUND};

/// A `data_dir` with a closed client's session on it, and that session.
fn closed_session(prefix: &str) -> (TempDir, matrix_mobile_core::Session) {
    let dir = TempDir::new().unwrap();
    let client = create(dir.path());
    let session = block_on(client.login(user(prefix), PASSWORD.into(), None)).unwrap();
    block_on(client.close(None)).unwrap();
    (dir, session)
}

/// A push for an event that does not exist, on `dir`, on a thread.
fn push(
    dir: &TempDir,
    session: &matrix_mobile_core::Session,
) -> std::sync::mpsc::Receiver<Result<Option<NotificationItem>, CoreError>> {
    let (path, session) = (dir.path().to_path_buf(), session.clone());
    on_thread(move || {
        block_on(get_notification(
            config(&homeserver::url(), &path),
            session,
            "!nowhere:localhost".into(),
            "$nothing:localhost".into(),
        ))
    })
}

/// A shutdown on a thread, once it refuses new work.
fn shutdown_begun() -> std::sync::mpsc::Receiver<Result<ShutdownReport, CoreError>> {
    let refusing = hooks::pause_at("shutdown.refusing");
    let shutting = on_thread(|| shutdown_blocking(ShutdownOptions { timeout_ms: 20_000 }));
    assert!(refusing.wait_reached(BOUND), "the shutdown did not begin");
    refusing.release();
    shutting
}

/// What a push handler may get from a call cut by a shutdown: an answer or
/// a documented error, never `Internal`.
fn assert_typed(what: &str, outcome: &Result<Option<NotificationItem>, CoreError>) {
    assert!(
        !matches!(outcome, Err(CoreError::Internal { .. })),
        "{what}: {outcome:?}"
    );
}

/// A shutdown that begins while a short-lived notification client holds
/// the `data_dir` waits for its teardown: when `shutdown()` returns, no file
/// under the `data_dir` is open and no thread of the runtime is left; the
/// call returns a typed result.
#[test]
fn a_shutdown_during_get_notification_waits_for_its_teardown() {
    let _s = serial();
    let (dir, session) = closed_session("hkns");
    let claimed = hooks::pause_at("notification.claimed");
    let pushed = push(&dir, &session);
    assert!(
        claimed.wait_reached(BOUND),
        "the notification never claimed"
    );
    let shutting = shutdown_begun();
    claimed.release();
    let report = within("the shutdown", &shutting).unwrap();
    assert_eq!(open_files_under(dir.path()), Some(0), "{report:?}");
    assert_eq!(report.threads_left, Some(0), "{report:?}");
    assert!(report.tasks_abandoned.is_empty(), "{report:?}");
    assert_typed("the push", &within("the push", &pushed));
}

/// A second push waiting for its turn behind one that holds the
/// `data_dir` when a shutdown begins: neither hangs, each gets a typed
/// result, and nothing stays open once both have returned.
#[test]
fn a_shutdown_with_a_push_waiting_for_its_turn_leaves_neither_hanging() {
    let _s = serial();
    let (dir, session) = closed_session("hknt");
    let claimed = hooks::pause_at("notification.claimed");
    let first = push(&dir, &session);
    assert!(
        claimed.wait_reached(BOUND),
        "the notification never claimed"
    );
    let second = push(&dir, &session);
    let shutting = shutdown_begun();
    claimed.release();
    let report = within("the shutdown", &shutting).unwrap();
    assert_eq!(report.threads_left, Some(0), "{report:?}");
    assert_typed("the first push", &within("the first push", &first));
    assert_typed("the second push", &within("the second push", &second));
    assert_eq!(open_files_under(dir.path()), Some(0));
}

/// A store that keeps one session in memory.
struct Kept(std::sync::Mutex<Session>);

impl SessionStore for Kept {
    fn save(&self, session: Session) -> Result<(), CoreError> {
        *self.0.lock().unwrap() = session;
        Ok(())
    }

    fn load(&self) -> Result<Option<Session>, CoreError> {
        Ok(Some(self.0.lock().unwrap().clone()))
    }
}

/// A shutdown while a fetcher holds its stores open (between pushes) ends
/// it: when `shutdown()` returns, no file under the `data_dir` is open and
/// no runtime thread is left; the fetcher's next push and its close get a
/// typed result, and the close's report says its client was dropped.
#[test]
fn a_shutdown_ends_an_open_fetcher() {
    let _s = serial();
    let (dir, session) = closed_session("hknf");
    let store = std::sync::Arc::new(Kept(std::sync::Mutex::new(session)));
    let fetcher = block_on(notification_fetcher(
        config(&homeserver::url(), dir.path()),
        store,
    ))
    .unwrap();
    assert!(
        open_files_under(dir.path()).is_some_and(|n| n > 0),
        "its stores are open"
    );
    let report = within("the shutdown", &shutdown_begun()).unwrap();
    assert_eq!(open_files_under(dir.path()), Some(0), "{report:?}");
    assert_eq!(report.threads_left, Some(0), "{report:?}");
    let pushed = block_on(fetcher.get("!nowhere:localhost".into(), "$nothing:localhost".into()));
    assert_typed("a push after the shutdown", &pushed);
    let closed = block_on(fetcher.close()).unwrap();
    assert!(closed.client_dropped, "{closed:?}");
    assert_eq!(closed.store_files_open_after, Some(0), "{closed:?}");
}
