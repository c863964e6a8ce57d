//! Logging: tracing-subscriber with a reloadable filter, the platform's log
//! (logcat on Android, os_log on Apple, stderr elsewhere) and rotating files.
//!
//! Guarantee: every line goes through [`scrub`], so a secret the core has
//! registered never reaches a log line.

mod console;
pub(crate) mod scrub;

use std::sync::{Mutex, OnceLock};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::api::{CoreError, CoreResult, LogConfig};

/// Log files kept by the rotation.
const KEPT_FILES: usize = 7;

type FilterHandle = reload::Handle<EnvFilter, Registry>;
/// The registry with the reloadable filter: what the output layers sit on.
type Filtered = tracing_subscriber::layer::Layered<reload::Layer<EnvFilter, Registry>, Registry>;

struct Installed {
    filter: FilterHandle,
    config: LogConfig,
}

static INSTALLED: OnceLock<Mutex<Installed>> = OnceLock::new();

fn parse_filter(filter: &str) -> CoreResult<EnvFilter> {
    EnvFilter::try_new(filter)
        .map_err(|e| CoreError::invalid_argument(format!("log filter `{filter}`: {e}")))
}

/// Installs logging, or on a later call replaces the filter (the outputs of
/// the first call stay; a change of them is reported in the log).
pub(crate) fn init(config: LogConfig) -> CoreResult<()> {
    let filter = parse_filter(&config.filter)?;
    if let Some(installed) = INSTALLED.get() {
        let mut installed = installed.lock().unwrap_or_else(|p| p.into_inner());
        installed
            .filter
            .reload(filter)
            .map_err(|e| CoreError::internal(format!("could not replace the log filter: {e}")))?;
        if installed.config.file_dir != config.file_dir
            || installed.config.to_stdout != config.to_stdout
        {
            tracing::warn!(
                "init_logging: outputs are fixed by the first call; only the filter was replaced"
            );
        }
        installed.config.filter = config.filter;
        return Ok(());
    }

    let file_layer = match &config.file_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| CoreError::storage(format!("log directory `{dir}`: {e}")))?;
            let appender = RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix("matrix-core")
                .filename_suffix("log")
                .max_log_files(KEPT_FILES)
                .build(dir)
                .map_err(|e| CoreError::storage(format!("log directory `{dir}`: {e}")))?;
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(scrub::Scrubbing(Mutex::new(appender)))
                    .boxed(),
            )
        }
        None => None,
    };
    let (filter_layer, handle) = reload::Layer::new(filter);
    let mut outputs: Vec<Box<dyn Layer<Filtered> + Send + Sync>> = Vec::new();
    if config.to_stdout {
        outputs.push(console_layer());
    }
    outputs.extend(file_layer);
    tracing_subscriber::registry()
        .with(filter_layer)
        .with(outputs)
        .try_init()
        .map_err(|e| {
            CoreError::invalid_state(format!("another tracing subscriber is installed: {e}"))
        })?;
    let _ = INSTALLED.set(Mutex::new(Installed {
        filter: handle,
        config,
    }));
    Ok(())
}

/// The platform's console (logcat, os_log, stderr), every line scrubbed.
fn console_layer() -> Box<dyn Layer<Filtered> + Send + Sync> {
    #[cfg(any(target_os = "android", target_os = "ios", target_os = "macos"))]
    {
        // The platform log stamps time and level itself.
        Box::new(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .without_time()
                .with_level(false)
                .with_writer(scrub::Scrubbing(console::LineLog(console::platform_write))),
        )
    }
    #[cfg(not(any(target_os = "android", target_os = "ios", target_os = "macos")))]
    {
        Box::new(tracing_subscriber::fmt::layer().with_writer(scrub::Scrubbing(std::io::stderr)))
    }
}
