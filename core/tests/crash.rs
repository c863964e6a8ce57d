//! A process killed (SIGKILL, as the OS kills an app) during a wiping
//! logout: in its first phase, and while its data_dir is being wiped. The
//! next `Client.create` on that data_dir finishes what the kill left.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/session.rs"]
mod session;

use std::sync::Arc;
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::{Client, LifecycleListener, LifecyclePhase, LogoutOptions};
use session::{config, user, PASSWORD};
use tempfile::TempDir;

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn getpid() -> i32;
}

const SIGKILL: i32 = 9;

/// The phase named by `MMC_CRASH_PHASE`, in which the crash child dies.
fn crash_phase() -> LifecyclePhase {
    match std::env::var("MMC_CRASH_PHASE").as_deref() {
        Ok("StoppingSync") => LifecyclePhase::StoppingSync,
        Ok("WipingData") => LifecyclePhase::WipingData,
        other => panic!("MMC_CRASH_PHASE: {other:?}"),
    }
}

/// The child half of the crash test: logs in on `MMC_CRASH_DIR` and is
/// killed (SIGKILL, as the OS kills an app) when its wiping logout reaches
/// the phase `MMC_CRASH_PHASE`.
#[test]
#[ignore = "run by a_logout_killed_half_way_is_finished_by_the_next_create"]
fn child_dies_during_a_wiping_logout() {
    struct Die(LifecyclePhase);
    impl LifecycleListener for Die {
        fn on_phase(&self, phase: LifecyclePhase, _elapsed_ms: u64) {
            if phase == self.0 {
                if phase == LifecyclePhase::StoppingSync {
                    std::thread::sleep(Duration::from_millis(4));
                }
                // SAFETY: plain libc calls on this process, no memory shared.
                unsafe { kill(getpid(), SIGKILL) };
            }
        }
    }
    let dir = std::env::var("MMC_CRASH_DIR").unwrap();
    let name = std::env::var("MMC_CRASH_USER").unwrap();
    let client = block_on(Client::create(config(&homeserver::url(), dir.as_ref()))).unwrap();
    block_on(client.login(name, PASSWORD.into(), None)).unwrap();
    block_on(client.start_sync()).unwrap();
    let die = Arc::new(Die(crash_phase()));
    let _ = block_on(client.logout(LogoutOptions::default(), Some(die)));
    std::thread::sleep(Duration::from_secs(5));
    unreachable!("the listener kills the process");
}

/// What a wipe leaves under `root`: the data dir itself or its tombstones.
fn left_under(root: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs the crash child, killed in `phase`; checks that it died of SIGKILL
/// (not of a panic or an assertion), then that the next create on its
/// data_dir finishes what the kill left and a login there works.
fn killed_in(phase: &str) {
    use std::os::unix::process::ExitStatusExt;
    let name = user("xia");
    let root = TempDir::new().unwrap();
    let dir = root.path().join("data");
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_dies_during_a_wiping_logout",
            "--ignored",
            "--nocapture",
        ])
        .env("MMC_CRASH_DIR", &dir)
        .env("MMC_CRASH_USER", &name)
        .env("MMC_CRASH_PHASE", phase)
        .output()
        .unwrap();
    assert_eq!(
        child.status.signal(),
        Some(SIGKILL),
        "{phase}: the child did not die of SIGKILL: {:?}\n{}",
        child.status,
        String::from_utf8_lossy(&child.stderr)
    );
    let left = left_under(root.path());
    eprintln!("{phase}: the kill left {left:?}");
    if phase == "StoppingSync" {
        assert!(
            dir.exists(),
            "the child died after the wipe: nothing to finish"
        );
    }

    let client = block_on(Client::create(config(&homeserver::url(), &dir))).unwrap();
    assert_eq!(
        left_under(root.path()),
        ["data"],
        "{phase}: the next create left the interrupted wipe behind"
    );
    let session = block_on(client.login(name, PASSWORD.into(), None))
        .expect("a login after the interrupted logout");
    assert!(!session.device_id.is_empty());
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert!(report.data_wiped, "{report:?}");
    assert!(
        left_under(root.path()).is_empty(),
        "{phase}: the wipe left files"
    );
}

/// Regression: a logout killed 4 ms in left a data_dir that no login could
/// use. The next create on it finishes the owed wipe before any store opens.
#[test]
fn a_logout_killed_half_way_is_finished_by_the_next_create() {
    killed_in("StoppingSync");
}

/// A process killed while its data_dir is being wiped (renamed away, or
/// half deleted) leaves nothing that the next create does not finish.
#[test]
fn a_logout_killed_while_wiping_is_finished_by_the_next_create() {
    killed_in("WipingData");
}
