//! The faults of the run: which one is on, and whether a call may have met one.

use std::sync::Mutex;
use std::time::Instant;

use crate::homeserver::{Fault, FaultProxy};
use crate::ops::REQUEST_TIMEOUT;

/// Whether a fault is on, and when the last one ended.
#[derive(Default)]
pub struct FaultClock {
    state: Mutex<(Option<Fault>, Option<Instant>)>,
}

impl FaultClock {
    pub fn set(&self, proxy: &FaultProxy, fault: Fault) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        proxy.set(fault);
        if fault == Fault::Pass {
            if state.0.is_some() {
                state.1 = Some(Instant::now());
            }
            state.0 = None;
        } else {
            state.0 = Some(fault);
        }
    }

    /// Whether a call that started at `start` may have met a fault: one is
    /// on now, or one ended less than a request timeout before `start` (a
    /// request swallowed by a black hole fails only at its timeout).
    pub fn faulted_since(&self, start: Instant) -> bool {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0.is_some() || state.1.is_some_and(|end| end + REQUEST_TIMEOUT >= start)
    }
}

/// The name of a fault, the key of the fault counts.
pub fn fault_name(fault: Fault) -> &'static str {
    match fault {
        Fault::Pass => "pass",
        Fault::Refuse => "refuse",
        Fault::Blackhole => "blackhole",
        Fault::Delay => "delay",
    }
}
