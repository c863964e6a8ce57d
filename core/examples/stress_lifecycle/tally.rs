//! What the run saw: counts per operation and per error kind, the failures
//! with examples, and the JSON report built from them.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value};

/// How many examples of each kind of failure the report keeps.
const EXAMPLES: usize = 25;

/// Counts of one operation.
#[derive(Default)]
pub struct OpCount {
    pub calls: u64,
    pub ok: u64,
    pub cancelled: u64,
    pub hangs: u64,
    pub unexpected: u64,
    pub max_ms: f64,
    /// Every call's time together: where a run's time goes.
    pub total_ms: f64,
    pub errors: BTreeMap<String, u64>,
}

/// Everything counted so far; one per process, behind [`tally`].
pub struct Tally {
    pub ops: BTreeMap<&'static str, OpCount>,
    pub errors: BTreeMap<String, u64>,
    pub hangs: u64,
    pub unexpected: u64,
    /// Unexpected results by kind (an error variant, `panic`, `delivery_after_cancel`...).
    pub unexpected_kinds: BTreeMap<String, u64>,
    pub unexpected_examples: Vec<Value>,
    pub hang_examples: Vec<Value>,
    /// Panics on any thread, seen by the panic hook.
    pub panics: u64,
    pub panic_examples: Vec<Value>,
    /// Reports of the core's task failure listener, by reason.
    pub task_failures: BTreeMap<String, u64>,
    pub task_failure_examples: Vec<Value>,
    /// Shutdowns after which the process was not clean.
    pub dirty_shutdowns: u64,
    pub dirty_shutdown_examples: Vec<Value>,
    pub shutdowns_checked: u64,
    /// Logout and close reports checked against the process.
    pub drains_checked: u64,
    /// Panics that listeners raised on purpose (not counted in `panics`).
    pub deliberate_panics: u64,
    /// The known matrix-sdk early termination (see `main.rs`), not a failure.
    pub known_task_failures: u64,
    pub faults: BTreeMap<&'static str, u64>,
    pub listener_deliveries: u64,
    /// Wall time of each iteration.
    pub iteration_ms: Vec<u32>,
}

static TALLY: Mutex<Tally> = Mutex::new(Tally {
    ops: BTreeMap::new(),
    errors: BTreeMap::new(),
    hangs: 0,
    unexpected: 0,
    unexpected_kinds: BTreeMap::new(),
    unexpected_examples: Vec::new(),
    hang_examples: Vec::new(),
    panics: 0,
    panic_examples: Vec::new(),
    task_failures: BTreeMap::new(),
    task_failure_examples: Vec::new(),
    dirty_shutdowns: 0,
    dirty_shutdown_examples: Vec::new(),
    shutdowns_checked: 0,
    drains_checked: 0,
    deliberate_panics: 0,
    known_task_failures: 0,
    faults: BTreeMap::new(),
    listener_deliveries: 0,
    iteration_ms: Vec::new(),
});

/// The process's tally. Never poisoned for good: a panic while it is held
/// leaves the counts as they were.
pub fn tally() -> MutexGuard<'static, Tally> {
    TALLY.lock().unwrap_or_else(|p| p.into_inner())
}

fn push(list: &mut Vec<Value>, value: Value) {
    if list.len() < EXAMPLES {
        list.push(value);
    }
}

impl Tally {
    pub fn op(&mut self, op: &'static str, elapsed: Duration) -> &mut OpCount {
        let count = self.ops.entry(op).or_default();
        count.calls += 1;
        count.max_ms = count.max_ms.max(elapsed.as_secs_f64() * 1000.0);
        count.total_ms += elapsed.as_secs_f64() * 1000.0;
        count
    }

    /// An error a call returned; `allowed` says whether the contract lists it.
    pub fn error(&mut self, op: &'static str, kind: &str, allowed: bool, example: Value) {
        *self.errors.entry(kind.to_owned()).or_default() += 1;
        if let Some(count) = self.ops.get_mut(op) {
            *count.errors.entry(kind.to_owned()).or_default() += 1;
            if !allowed {
                count.unexpected += 1;
            }
        }
        if !allowed {
            self.unexpected(kind, example);
        }
    }

    /// Something that is neither `Ok` nor a documented error.
    pub fn unexpected(&mut self, kind: &str, example: Value) {
        self.unexpected += 1;
        *self.unexpected_kinds.entry(kind.to_owned()).or_default() += 1;
        push(&mut self.unexpected_examples, example);
    }

    pub fn hang(&mut self, op: &'static str, example: Value) {
        self.hangs += 1;
        self.ops.entry(op).or_default().hangs += 1;
        push(&mut self.hang_examples, example);
    }

    pub fn panic(&mut self, example: Value) {
        self.panics += 1;
        push(&mut self.panic_examples, example);
    }

    pub fn task_failure(&mut self, kind: &str, example: Value) {
        *self.task_failures.entry(kind.to_owned()).or_default() += 1;
        push(&mut self.task_failure_examples, example);
    }

    pub fn dirty_shutdown(&mut self, example: Value) {
        self.dirty_shutdowns += 1;
        push(&mut self.dirty_shutdown_examples, example);
    }

    /// Mean, 95th percentile and maximum wall time of an iteration, in ms.
    pub fn iteration_json(&self) -> Value {
        let mut ms = self.iteration_ms.clone();
        ms.sort_unstable();
        let n = ms.len();
        if n == 0 {
            return Value::Null;
        }
        let mean = ms.iter().map(|m| f64::from(*m)).sum::<f64>() / n as f64;
        json!({"mean": mean.round(), "p95": ms[(n * 95 / 100).min(n - 1)], "max": ms[n - 1]})
    }

    /// The per-operation table of the report.
    pub fn ops_json(&self) -> Value {
        let ops: serde_json::Map<String, Value> = self
            .ops
            .iter()
            .map(|(name, c)| {
                (
                    (*name).to_owned(),
                    json!({
                        "calls": c.calls,
                        "ok": c.ok,
                        "cancelled": c.cancelled,
                        "hangs": c.hangs,
                        "unexpected": c.unexpected,
                        "max_ms": (c.max_ms * 10.0).round() / 10.0,
                        "total_ms": c.total_ms.round(),
                        "errors": c.errors,
                    }),
                )
            })
            .collect();
        Value::Object(ops)
    }

    /// One line per operation, for the terminal.
    pub fn print_table(&self) {
        println!(
            "{:<20} {:>6} {:>6} {:>6} {:>5} {:>5} {:>9} {:>9}  errors",
            "operation", "calls", "ok", "cancel", "hang", "unexp", "max ms", "total ms"
        );
        for (name, c) in &self.ops {
            let errors: Vec<String> = c.errors.iter().map(|(k, n)| format!("{k}={n}")).collect();
            println!(
                "{name:<20} {:>6} {:>6} {:>6} {:>5} {:>5} {:>9.1} {:>9.0}  {}",
                c.calls,
                c.ok,
                c.cancelled,
                c.hangs,
                c.unexpected,
                c.max_ms,
                c.total_ms,
                errors.join(" ")
            );
        }
    }
}
