//! Checking a [`RuntimeConfig`] and deriving the worker count from it.

use crate::api::{CoreError, CoreResult, RuntimeConfig};

/// Most worker threads an explicit configuration may ask for.
const MAX_WORKERS: u32 = 64;

impl RuntimeConfig {
    /// Checks the configuration; nothing is changed when it is rejected.
    pub(crate) fn validate(&self) -> CoreResult<()> {
        if self.worker_threads > MAX_WORKERS {
            return Err(CoreError::invalid_argument(format!(
                "worker_threads is {}, at most {MAX_WORKERS} are allowed",
                self.worker_threads
            )));
        }
        let name = self.thread_name.trim();
        if name.is_empty() || name.contains('\0') {
            return Err(CoreError::invalid_argument(
                "thread_name must be non-empty and contain no NUL",
            ));
        }
        Ok(())
    }

    /// The worker count the runtime will really use.
    pub(crate) fn effective_workers(&self) -> u32 {
        if self.worker_threads > 0 {
            return self.worker_threads;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        cores.clamp(1, 4)
    }
}
