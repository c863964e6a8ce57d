//! Everything UniFFI exports: objects, records, listeners, functions. Thin:
//! each exported method delegates to the module that owns the behaviour.

pub mod client;
pub mod listeners;
pub mod process;
pub mod records;
pub mod subscription;
