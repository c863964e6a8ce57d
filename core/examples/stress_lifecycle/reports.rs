//! Every drain's report, checked against the process at the moment it
//! returns: the stores closed (`store_files_open_after == Some(0)`, and no
//! file open under the directory now), `data_wiped` against the directory on
//! disk, and `client_dropped` against `tasks_left_behind` and the restart.

use std::path::Path;

use serde_json::{json, Value};

use crate::api::{platform, CloseReport, LogoutReport};

/// The fields of a `LogoutReport` or `CloseReport` that the check reads.
pub struct Drained {
    store_files_open_after: Option<u32>,
    client_dropped: bool,
    tasks_left_behind: u32,
    data_wiped: bool,
    runtime_restarted: bool,
    warnings: Vec<String>,
}

impl From<&LogoutReport> for Drained {
    fn from(r: &LogoutReport) -> Self {
        Self {
            store_files_open_after: r.store_files_open_after,
            client_dropped: r.client_dropped,
            tasks_left_behind: r.tasks_left_behind,
            data_wiped: r.data_wiped,
            runtime_restarted: r.runtime_restarted,
            warnings: r.warnings.clone(),
        }
    }
}

impl From<&CloseReport> for Drained {
    fn from(r: &CloseReport) -> Self {
        Self {
            store_files_open_after: r.store_files_open_after,
            client_dropped: r.client_dropped,
            tasks_left_behind: r.tasks_left_behind,
            data_wiped: r.data_wiped,
            runtime_restarted: r.runtime_restarted,
            warnings: r.warnings.clone(),
        }
    }
}

/// What is wrong with a drain's report, read beside its `dir` right now;
/// empty when nothing is. `wipe` is whether the drain was asked to wipe.
/// `dir` is `None` when another client may use the directory by now (it is
/// then not looked at); the caller makes sure that none can meanwhile.
pub fn problems(report: &Drained, dir: Option<&Path>, wipe: bool) -> Vec<String> {
    let mut wrong = Vec::new();
    if cfg!(target_os = "linux") && report.store_files_open_after != Some(0) {
        wrong.push(format!(
            "store_files_open_after {:?}",
            report.store_files_open_after
        ));
    }
    if report.client_dropped != (report.tasks_left_behind == 0) {
        wrong.push(format!(
            "client_dropped {} with tasks_left_behind {}",
            report.client_dropped, report.tasks_left_behind
        ));
    }
    if report.runtime_restarted && !report.client_dropped {
        wrong.push("the runtime restarted, yet the client was not dropped".into());
    }
    if wipe != report.data_wiped {
        wrong.push(format!(
            "wipe asked {wipe}, data_wiped {}",
            report.data_wiped
        ));
    }
    let Some(dir) = dir else {
        return wrong;
    };
    let open_now = platform::open_files_under(dir);
    if open_now.is_some_and(|n| n > 0) {
        wrong.push(format!("{open_now:?} files open under data_dir on return"));
    }
    let exists = dir.exists();
    match (wipe, report.data_wiped, exists) {
        (true, true, false) | (false, false, true) => {}
        (_, data_wiped, exists) => wrong.push(format!(
            "data_wiped {data_wiped}, yet data_dir exists: {exists}"
        )),
    }
    wrong
}

/// The example the tally keeps of a bad report.
pub fn example(iteration: u64, op: &str, report: &Drained, wrong: Vec<String>) -> Value {
    json!({
        "iteration": iteration,
        "op": op,
        "error": wrong.join("; "),
        "warnings": report.warnings,
    })
}
