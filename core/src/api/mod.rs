//! What crosses the FFI: records, enums, the error type and the listener
//! traits. The bottom of the crate: it depends on no other module of it, and
//! every other module may use it.

mod chat;
mod encryption;
mod error;
mod lifecycle;
pub(crate) mod listeners;
mod process;
mod push;
mod records;
mod rooms;
mod session;
mod verification;

pub use chat::*;
pub use encryption::*;
pub use error::{CoreError, CoreResult};
pub use lifecycle::*;
pub use listeners::{
    LifecycleListener, MessageListener, ProgressListener, RoomListListener, RoomListener,
    SyncStateListener, TaskFailureListener, TimelineListener, TypingListener,
};
pub use process::*;
pub use push::{NotificationItem, NotificationKind, PushFormat, PusherConfig};
pub use records::*;
pub use rooms::*;
pub use session::{SessionListener, SessionStore};
pub use verification::{Emoji, VerificationListener, VerificationState};
