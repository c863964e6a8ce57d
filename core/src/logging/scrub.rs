//! Secret scrubbing for every log line the core writes.
//!
//! The core never logs a secret on purpose. As a second line of defence, the
//! secrets it handles (access and refresh tokens, a password during login)
//! are registered here, and every writer of the core replaces them with
//! `[redacted]` before a line reaches a file or a console.

use std::io::{self, Write};
use std::sync::RwLock;

use tracing_subscriber::fmt::MakeWriter;

/// The secrets to scrub, each with the number of registrations that hold it
/// (two clients restored from one session register the same token).
static SECRETS: RwLock<Vec<(String, usize)>> = RwLock::new(Vec::new());

/// Shortest secret worth scrubbing; shorter strings would mangle ordinary text.
const MIN_LEN: usize = 6;

/// Registers a secret to scrub from every later log line, until as many
/// [`forget`]s; returns whether it did (a secret under 6 bytes is not).
pub(crate) fn register(secret: &str) -> bool {
    secret.len() >= MIN_LEN && register_any(secret)
}

/// [`register`] whatever the secret's length (not empty): for what the user
/// typed (a password), which is only registered while it is in use.
fn register_any(secret: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    match secrets.iter_mut().find(|(s, _)| s == secret) {
        Some((_, holders)) => *holders += 1,
        None => secrets.push((secret.to_owned(), 1)),
    }
    true
}

/// Gives back one registration of a secret; the last one forgets it.
pub(crate) fn forget(secret: &str) {
    let mut secrets = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    if let Some(i) = secrets.iter().position(|(s, _)| s == secret) {
        secrets[i].1 -= 1;
        if secrets[i].1 == 0 {
            secrets.swap_remove(i);
        }
    }
}

/// A secret registered for as long as this guard lives: a password during
/// login, a session's tokens while its client lives. Dropping it forgets the
/// secret on every path (a login that fails, returns, or whose task is
/// dropped half way; a client drained or released), so the list holds only
/// the secrets in use.
pub(crate) struct Registered {
    secret: String,
    /// Whether `new` or `typed` registered it (a short token is not).
    registered: bool,
}

impl Registered {
    /// A token or key: scrubbed when it is at least 6 bytes long.
    pub(crate) fn new(secret: &str) -> Self {
        Self {
            registered: register(secret),
            secret: secret.to_owned(),
        }
    }

    /// What the user typed (a password, a store passphrase): scrubbed
    /// whatever its length while the guard lives. A short one may redact
    /// ordinary text in that time; it is never written out.
    pub(crate) fn typed(secret: &str) -> Self {
        Self {
            registered: register_any(secret),
            secret: secret.to_owned(),
        }
    }
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registered([redacted])")
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        // Forgets only what it registered, never another holder's count.
        if self.registered {
            forget(&self.secret);
        }
    }
}

/// Whether `secret` is registered now.
#[cfg(test)]
pub(crate) fn is_registered(secret: &str) -> bool {
    SECRETS
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .any(|(s, _)| s == secret)
}

/// `line` with every registered secret replaced.
pub(crate) fn scrub(line: &str) -> String {
    let secrets = SECRETS.read().unwrap_or_else(|p| p.into_inner());
    let mut out = line.to_owned();
    for (secret, _) in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "[redacted]");
        }
    }
    out
}

/// A [`MakeWriter`] whose writers scrub each buffer before passing it on.
pub(crate) struct Scrubbing<M>(pub(crate) M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Scrubbing<M> {
    type Writer = ScrubbingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbingWriter(self.0.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        ScrubbingWriter(self.0.make_writer_for(meta))
    }
}

/// Writes scrubbed text to the inner writer.
pub(crate) struct ScrubbingWriter<W>(W);

impl<W: Write> Write for ScrubbingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    #[test]
    fn registered_secret_is_redacted() {
        register("syt_secret_token_value");
        assert_eq!(
            scrub("Authorization: Bearer syt_secret_token_value ok"),
            "Authorization: Bearer [redacted] ok"
        );
        forget("syt_secret_token_value");
        assert!(scrub("syt_secret_token_value").contains("secret"));
    }

    /// Regression: a login whose task was dropped half way never forgot
    /// the password.
    #[test]
    fn a_secret_stays_registered_until_its_last_holder_forgets_it() {
        let token = "syt_shared_by_two_clients";
        let first = Registered::new(token);
        let second = Registered::new(token);
        drop(first);
        assert!(is_registered(token), "the second client still holds it");
        drop(second);
        assert!(!is_registered(token), "no holder is left");
    }

    /// Regression: a password under 6 characters was never scrubbed.
    #[test]
    fn a_short_password_is_scrubbed_while_it_is_typed_in() {
        let password = Registered::typed("pw1");
        assert_eq!(
            scrub("login with pw1 failed"),
            "login with [redacted] failed"
        );
        drop(password);
        assert!(!is_registered("pw1"));
        let typed = Registered::typed("pw2");
        let token = Registered::new("pw2");
        drop(token);
        assert!(
            is_registered("pw2"),
            "a short token registered nothing to forget"
        );
        drop(typed);
    }

    #[test]
    fn a_registered_password_is_forgotten_when_its_guard_drops_unpolled() {
        let login = async {
            let _password = Registered::new("correct horse battery staple");
            std::future::pending::<()>().await;
        };
        let mut login = Box::pin(login);
        let waker = futures_util::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(login.as_mut().poll(&mut cx).is_pending());
        assert!(is_registered("correct horse battery staple"));
        drop(login);
        assert!(!is_registered("correct horse battery staple"));
    }
}
