//! Runtime configuration and the states the runtime moves through.

use crate::error::{CoreError, CoreResult};

/// How the owned runtime is built. Set it with `configure_runtime` before first use.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RuntimeConfig {
    /// Worker threads; 0 means the number of cores, at most 4.
    #[uniffi(default = 0)]
    pub worker_threads: u32,
    /// Prefix of every runtime thread's name (the kernel keeps 15 bytes).
    #[uniffi(default = "matrix-core")]
    pub thread_name: String,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            worker_threads: 0,
            thread_name: "matrix-core".into(),
        }
    }
}

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

/// Where the owned runtime is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RuntimeState {
    /// No runtime yet; the first use starts one.
    NotStarted,
    /// The runtime runs; calls are served.
    Running,
    /// A shutdown or restart is stopping tasks; new calls wait (restart) or get `ShuttingDown`.
    ShuttingDown,
    /// Shut down; the next use starts a new generation.
    ShutDown,
}
