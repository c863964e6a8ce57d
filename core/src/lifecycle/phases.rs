//! Phases of a logout or close, their timings, and the listener that watches them.

use std::sync::Arc;
use std::time::Instant;

use crate::ffi::listeners::guard_listener;

/// A step of `logout`, `close` or `shutdown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LifecyclePhase {
    StoppingSync,
    ServerLogout,
    CancellingTasks,
    DroppingClient,
    ClosingStores,
    WipingData,
    RestartingRuntime,
    Done,
}

/// How long one phase took.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PhaseTiming {
    pub phase: LifecyclePhase,
    pub elapsed_ms: u64,
}

/// Watches a logout or close. Called from the core's threads; a listener that
/// throws is logged and ignored.
#[uniffi::export(foreign)]
pub trait LifecycleListener: Send + Sync {
    /// `phase` has begun; `elapsed_ms` is the time since the call started.
    fn on_phase(&self, phase: LifecyclePhase, elapsed_ms: u64);
}

/// Times phases and tells the listener when each begins.
pub(crate) struct PhaseClock {
    started: Instant,
    current: Option<(LifecyclePhase, Instant)>,
    timings: Vec<PhaseTiming>,
    listener: Option<Arc<dyn LifecycleListener>>,
}

impl PhaseClock {
    pub(crate) fn new(listener: Option<Arc<dyn LifecycleListener>>) -> Self {
        Self {
            started: Instant::now(),
            current: None,
            timings: Vec::new(),
            listener,
        }
    }

    /// Ends the current phase (recording its time) and begins `phase`.
    pub(crate) fn begin(&mut self, phase: LifecyclePhase) {
        self.finish_current();
        let now = Instant::now();
        self.current = Some((phase, now));
        if let Some(listener) = &self.listener {
            let elapsed = ms(now - self.started);
            guard_listener("LifecycleListener.on_phase", || {
                listener.on_phase(phase, elapsed)
            });
        }
    }

    fn finish_current(&mut self) {
        if let Some((phase, since)) = self.current.take() {
            self.timings.push(PhaseTiming {
                phase,
                elapsed_ms: ms(since.elapsed()),
            });
        }
    }

    /// Milliseconds since the clock started.
    pub(crate) fn total_ms(&self) -> u64 {
        ms(self.started.elapsed())
    }

    /// Ends the last phase, reports `Done`, and returns every timing.
    pub(crate) fn finish(mut self) -> (Vec<PhaseTiming>, u64) {
        self.begin(LifecyclePhase::Done);
        self.finish_current();
        let total = self.total_ms();
        (self.timings, total)
    }
}

fn ms(d: std::time::Duration) -> u64 {
    d.as_millis() as u64
}
