//! [`PhaseClock`]: times the phases of a logout or close and tells the
//! listener when each begins.
//!
//! The listener is called on a thread of its own (a [`Dispatcher`]), never
//! on the drain's thread and never under a lock: a listener that blocks or
//! calls back into the core (`runtime_stats()`, even `shutdown`) cannot stall
//! or deadlock the drain.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::api::listeners::call_foreign;
use crate::api::{LifecycleListener, LifecyclePhase, PhaseTiming};
use crate::supervisor::Dispatcher;

/// How long the drain waits, at its end, for the listener to have been told
/// every phase (`Done` included). A slower listener is told later.
const FLUSH_WAIT: Duration = Duration::from_secs(1);

/// Times phases and tells the listener when each begins.
pub(crate) struct PhaseClock {
    started: Instant,
    current: Option<(LifecyclePhase, Instant)>,
    timings: Vec<PhaseTiming>,
    listener: Option<(Arc<dyn LifecycleListener>, Dispatcher)>,
}

impl PhaseClock {
    pub(crate) fn new(listener: Option<Arc<dyn LifecycleListener>>) -> Self {
        Self {
            started: Instant::now(),
            current: None,
            timings: Vec::new(),
            listener: listener.map(|l| (l, Dispatcher::new("mmc-phases"))),
        }
    }

    /// Ends the current phase (recording its time) and begins `phase`.
    pub(crate) fn begin(&mut self, phase: LifecyclePhase) {
        self.finish_current();
        let now = Instant::now();
        self.current = Some((phase, now));
        if let Some((listener, dispatcher)) = &self.listener {
            let elapsed = ms(now - self.started);
            let listener = listener.clone();
            dispatcher.post(Box::new(move || {
                call_foreign("LifecycleListener.on_phase", || {
                    listener.on_phase(phase, elapsed)
                });
            }));
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

    /// Ends the last phase, reports `Done`, waits a bounded time for the
    /// listener to hear it, and returns every timing and the total.
    pub(crate) fn finish(mut self) -> (Vec<PhaseTiming>, u64) {
        self.begin(LifecyclePhase::Done);
        self.finish_current();
        let total = ms(self.started.elapsed());
        if let Some((_, dispatcher)) = &self.listener {
            if !dispatcher.close(Instant::now() + FLUSH_WAIT) {
                tracing::warn!("the lifecycle listener is slow; it will hear the last phases late");
            }
        }
        (self.timings, total)
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}
