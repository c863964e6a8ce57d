//! Everything UniFFI exports that has behaviour: the `Client` object and the
//! process-wide functions. The top of the crate, and thin: each exported
//! method resolves its object and delegates to the module that owns the
//! behaviour. The records, enums, errors and listener traits live in `api`.

pub mod chat;
pub mod client;
pub mod compose;
#[cfg(feature = "diagnostics")]
pub mod diagnostics;
pub mod encryption;
pub mod notification;
pub mod notification_settings;
pub mod people;
pub mod process;
pub mod push;
pub mod rooms;
pub mod session;
pub mod timeline;
pub mod verification;
