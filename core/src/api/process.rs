//! Process-wide records: the runtime's configuration and state, logging,
//! task failures and the shutdown.

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

/// How the core logs.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LogConfig {
    /// An `EnvFilter` directive, such as `info,matrix_sdk=warn`.
    #[uniffi(default = "info")]
    pub filter: String,
    /// Log to the platform's console: logcat, os_log, or stderr.
    #[uniffi(default = true)]
    pub to_stdout: bool,
    /// Write daily-rotated files (seven kept) into this directory.
    #[uniffi(default = None)]
    pub file_dir: Option<String>,
}

/// Why a supervised task (or one of matrix-sdk's monitored tasks) failed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum TaskFailureReason {
    /// The task panicked; `message` is the panic payload when it was a string.
    Panic { message: String },
    /// A fallible task returned an error.
    Error { message: String },
    /// A task meant to run until cancelled ended on its own.
    EarlyTermination,
}

/// One failure report.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TaskFailure {
    pub task_name: String,
    pub reason: TaskFailureReason,
}

/// Options of `shutdown`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ShutdownOptions {
    /// Bound of the whole call.
    #[uniffi(default = 5000)]
    pub timeout_ms: u32,
}

impl Default for ShutdownOptions {
    fn default() -> Self {
        Self { timeout_ms: 5000 }
    }
}

/// What `shutdown` did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ShutdownReport {
    pub clients_closed: u32,
    pub tasks_drained: u32,
    /// Names of tasks still alive at the deadline.
    pub tasks_abandoned: Vec<String>,
    pub total_ms: u64,
    pub runtime_generation: u64,
    /// No runtime was running when the call came.
    pub already_shut_down: bool,
    /// Runtime threads still alive after the runtime was shut down (0 when
    /// every thread was joined; `None` where the platform cannot tell).
    pub threads_left: Option<u32>,
}

/// A snapshot of the runtime.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RuntimeStats {
    pub generation: u64,
    pub state: RuntimeState,
    /// Every task on the runtime, from tokio's metrics.
    pub alive_tasks: u64,
    pub supervised_tasks: Vec<String>,
    pub worker_threads: u32,
    pub live_clients: u32,
}
