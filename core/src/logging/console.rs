//! The platform's console log: logcat on Android, os_log on Apple.
//!
//! Both take whole lines with a level, not a byte stream, so [`LineLog`]
//! collects one formatted event and hands it to the platform when the
//! writer is dropped. It sits under the scrubbing writer like every other
//! output, so no registered secret reaches the platform's log.

// Elsewhere the console is stderr; only the tests use the line writer there.
#![cfg_attr(
    not(any(target_os = "android", target_os = "ios", target_os = "macos")),
    allow(dead_code)
)]

use std::io;

use tracing::Level;
use tracing_subscriber::fmt::MakeWriter;

/// Makes one [`Line`] per event; `write` receives it with its level.
pub(crate) struct LineLog(pub(crate) fn(Level, &str));

/// One formatted event, handed to the platform's log when dropped.
pub(crate) struct Line {
    level: Level,
    buf: Vec<u8>,
    write: fn(Level, &str),
}

impl<'a> MakeWriter<'a> for LineLog {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            level: Level::INFO,
            buf: Vec::new(),
            write: self.0,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Line {
        Line {
            level: *meta.level(),
            buf: Vec::new(),
            write: self.0,
        }
    }
}

impl io::Write for Line {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let text = text.trim_end();
        if !text.is_empty() {
            (self.write)(self.level, text);
        }
    }
}

/// Writes one line to logcat.
#[cfg(target_os = "android")]
pub(crate) fn platform_write(level: Level, text: &str) {
    use std::ffi::CString;
    use std::os::raw::{c_char, c_int};

    #[link(name = "log")]
    extern "C" {
        fn __android_log_write(prio: c_int, tag: *const c_char, text: *const c_char) -> c_int;
    }
    let priority = match level {
        Level::TRACE => 2,
        Level::DEBUG => 3,
        Level::INFO => 4,
        Level::WARN => 5,
        Level::ERROR => 6,
    };
    let Ok(text) = CString::new(text.replace('\0', "\\0")) else {
        return;
    };
    // SAFETY: both pointers are valid NUL-terminated strings for the call.
    unsafe {
        __android_log_write(priority, c"matrix-core".as_ptr(), text.as_ptr());
    }
}

/// Writes one line to os_log.
#[cfg(any(target_os = "ios", target_os = "macos"))]
pub(crate) fn platform_write(level: Level, text: &str) {
    use std::sync::LazyLock;
    static LOG: LazyLock<oslog::OsLog> =
        LazyLock::new(|| oslog::OsLog::new("dev.matrixmobilecore", "core"));
    let level = match level {
        Level::TRACE | Level::DEBUG => oslog::Level::Debug,
        Level::INFO => oslog::Level::Info,
        Level::WARN => oslog::Level::Default,
        Level::ERROR => oslog::Level::Error,
    };
    LOG.with_level(level, text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::scrub::{self, Scrubbing};
    use std::sync::Mutex;
    use tracing_subscriber::layer::SubscriberExt;

    static SEEN: Mutex<Vec<(Level, String)>> = Mutex::new(Vec::new());

    fn capture(level: Level, text: &str) {
        SEEN.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((level, text.to_owned()));
    }

    /// Regression: the logcat and os_log writers skipped the scrubber, so a
    /// secret that a log line carried reached the platform's log.
    #[test]
    fn the_platform_console_gets_scrubbed_lines_with_their_level() {
        scrub::register("syt_console_secret_42");
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .without_time()
            .with_level(false)
            .with_writer(Scrubbing(LineLog(capture)));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(token = "syt_console_secret_42", "a line with a secret");
        });
        scrub::forget("syt_console_secret_42");
        let seen = SEEN.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].0, Level::WARN);
        assert!(seen[0].1.contains("[redacted]"), "{seen:?}");
        assert!(!seen[0].1.contains("syt_console_secret_42"), "{seen:?}");
    }
}
