//! Makes Swift `Task` cancellation reach the core, as it does from Kotlin
//! coroutines and Python asyncio.
//!
//! UniFFI 0.32's Swift `uniffiRustCallAsync` awaits the Rust future in a plain
//! `withUnsafeContinuation` loop: a cancelled task keeps waiting until the
//! core's call finishes, and a `CALL_CANCELLED` status is a `fatalError`. The
//! FFI already has what is missing (`ffi_<ns>_rust_future_cancel_<type>`), so
//! this module rewrites the generated file in three checked places:
//!
//! 1. `uniffiRustCallAsync` takes a `cancelFunc` and runs its poll loop inside
//!    `withTaskCancellationHandler`. On cancellation the handler cancels the
//!    Rust future: its pending poll completes at once, `completeFunc` reports
//!    `CALL_CANCELLED`, and `freeFunc` drops the future, and with it the
//!    core's work (the core aborts a call's task when its future is dropped).
//! 2. Each call site passes the `cancel` function matching its `free`.
//! 3. `CALL_CANCELLED` throws `CancellationError` instead of crashing.
//!
//! Each rewrite checks the text it replaces, so a UniFFI upgrade that changes
//! the template fails here, loudly, instead of shipping half a patch.

use anyhow::{bail, Result};

/// The first lines of the generated file, after which the patch notes itself.
const BANNER: &str = "// Trust me, you don't want to mess with it!\n";
const NOTE: &str = "\n// Patched by `cargo xtask swift-bindings` (xtask/src/swift/cancel.rs):\n\
// cancelling the Swift Task that awaits an async call cancels the core's call.\n";

/// `uniffiRustCallAsync` as UniFFI 0.32 generates it; `{INIT}` is the
/// namespace's `uniffiEnsure...Initialized` function.
const ORIGINAL_CALL_ASYNC: &str = r#"fileprivate func uniffiRustCallAsync<F, T>(
    rustFutureFunc: () -> UInt64,
    pollFunc: (UInt64, @escaping UniffiRustFutureContinuationCallback, UInt64) -> (),
    completeFunc: (UInt64, UnsafeMutablePointer<RustCallStatus>) -> F,
    freeFunc: (UInt64) -> (),
    liftFunc: (F) throws -> T,
    errorHandler: ((RustBuffer) throws -> Swift.Error)?
) async throws -> T {
    // Make sure to call the ensure init function since future creation doesn't have a
    // RustCallStatus param, so doesn't use makeRustCall()
    {INIT}()
    let rustFuture = rustFutureFunc()
    defer {
        freeFunc(rustFuture)
    }
    var pollResult: Int8;
    repeat {
        pollResult = await withUnsafeContinuation {
            pollFunc(
                rustFuture,
                { handle, pollResult in
                    uniffiFutureContinuationCallback(handle: handle, pollResult: pollResult)
                },
                uniffiContinuationHandleMap.insert(obj: $0)
            )
        }
    } while pollResult != UNIFFI_RUST_FUTURE_POLL_READY

    return try liftFunc(makeRustCall(
        { completeFunc(rustFuture, $0) },
        errorHandler: errorHandler
    ))
}
"#;

const PATCHED_CALL_ASYNC: &str = r#"fileprivate func uniffiRustCallAsync<F, T>(
    rustFutureFunc: () -> UInt64,
    pollFunc: (UInt64, @escaping UniffiRustFutureContinuationCallback, UInt64) -> (),
    completeFunc: (UInt64, UnsafeMutablePointer<RustCallStatus>) -> F,
    freeFunc: (UInt64) -> (),
    cancelFunc: @convention(c) (UInt64) -> (),
    liftFunc: (F) throws -> T,
    errorHandler: ((RustBuffer) throws -> Swift.Error)?
) async throws -> T {
    // Make sure to call the ensure init function since future creation doesn't have a
    // RustCallStatus param, so doesn't use makeRustCall()
    {INIT}()
    let rustFuture = rustFutureFunc()
    defer {
        // Drops the Rust future, and with it the core's call if it still runs.
        freeFunc(rustFuture)
    }
    // Cancelling the task cancels the Rust future: a pending poll completes
    // at once (a later one immediately), then `completeFunc` reports
    // CALL_CANCELLED, thrown as CancellationError, unless the call had
    // already finished, whose result then stands.
    await withTaskCancellationHandler {
        var pollResult: Int8
        repeat {
            pollResult = await withUnsafeContinuation {
                pollFunc(
                    rustFuture,
                    { handle, pollResult in
                        uniffiFutureContinuationCallback(handle: handle, pollResult: pollResult)
                    },
                    uniffiContinuationHandleMap.insert(obj: $0)
                )
            }
        } while pollResult != UNIFFI_RUST_FUTURE_POLL_READY
    } onCancel: {
        cancelFunc(rustFuture)
    }

    return try liftFunc(makeRustCall(
        { completeFunc(rustFuture, $0) },
        errorHandler: errorHandler
    ))
}
"#;

const ORIGINAL_CANCELLED: &str =
    "        case CALL_CANCELLED:\n            fatalError(\"Cancellation not supported yet\")\n";
const PATCHED_CANCELLED: &str =
    "        case CALL_CANCELLED:\n            throw CancellationError()\n";

/// Returns `generated` (UniFFI 0.32's Swift bindings of the core) with Task
/// cancellation wired to the core; fails, saying which part, when the
/// generated text is not what this patch was written against.
pub fn patch(generated: &str) -> Result<String> {
    let init = ensure_initialized_name(generated)?;
    let original = ORIGINAL_CALL_ASYNC.replace("{INIT}", init);
    let patched = PATCHED_CALL_ASYNC.replace("{INIT}", init);

    // `@convention(c)` (the FFI's functions), so that the `@Sendable`
    // cancellation handler may capture it in every concurrency mode.
    let mut text = replace_once(generated, BANNER, &format!("{BANNER}{NOTE}"), "the banner")?;
    text = replace_once(&text, &original, &patched, "uniffiRustCallAsync")?;
    text = replace_once(
        &text,
        ORIGINAL_CANCELLED,
        PATCHED_CANCELLED,
        "CALL_CANCELLED",
    )?;

    let calls = text.matches("try  await uniffiRustCallAsync(").count()
        + text.matches("try await uniffiRustCallAsync(").count();
    let (text, sites) = pass_cancel_functions(&text);
    if sites != calls || calls == 0 {
        bail!("{calls} async calls but {sites} `freeFunc: ..._rust_future_free_...` arguments");
    }
    Ok(text)
}

/// The namespace's `uniffiEnsure<Namespace>Initialized`, as the generated
/// file declares it.
fn ensure_initialized_name(generated: &str) -> Result<&str> {
    const PREFIX: &str = "public func uniffiEnsure";
    let start = generated
        .find(PREFIX)
        .map(|i| i + "public func ".len())
        .ok_or_else(|| anyhow::anyhow!("no `{PREFIX}...Initialized()` in the generated Swift"))?;
    let rest = &generated[start..];
    match rest.find("()") {
        Some(end) if rest[..end].ends_with("Initialized") => Ok(&rest[..end]),
        _ => bail!("`{PREFIX}...` is not an `...Initialized()` function"),
    }
}

/// Replaces the single occurrence of `from`; fails when there is none or more.
fn replace_once(text: &str, from: &str, to: &str, what: &str) -> Result<String> {
    match text.matches(from).count() {
        1 => Ok(text.replacen(from, to, 1)),
        n => bail!(
            "expected {what} exactly once as UniFFI 0.32 generates it, found it {n} times; \
             update xtask/src/swift/cancel.rs for this UniFFI version"
        ),
    }
}

/// After every `freeFunc: <ns>_rust_future_free_<type>,` argument, adds
/// `cancelFunc: <ns>_rust_future_cancel_<type>,` at the same indentation.
/// Returns the text and the number of call sites.
fn pass_cancel_functions(text: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len() + 8192);
    let mut sites = 0;
    for line in text.split_inclusive('\n') {
        out.push_str(line);
        let trimmed = line.trim_start();
        let Some(free) = trimmed.strip_prefix("freeFunc: ") else {
            continue;
        };
        let free = free.trim_end().trim_end_matches(',');
        if !free.contains("_rust_future_free_") {
            continue;
        }
        let indent = &line[..line.len() - trimmed.len()];
        let cancel = free.replacen("_rust_future_free_", "_rust_future_cancel_", 1);
        out.push_str(&format!("{indent}cancelFunc: {cancel},\n"));
        sites += 1;
    }
    (out, sites)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A miniature of the generated file: the parts the patch touches.
    fn sample() -> String {
        let call = r#"open func pause()async throws   {
    return
        try  await uniffiRustCallAsync(
            rustFutureFunc: {
                uniffi_ns_fn_method_client_pause(
                        self.uniffiCloneHandle()
                )
            },
            pollFunc: ffi_ns_rust_future_poll_void,
            completeFunc: ffi_ns_rust_future_complete_void,
            freeFunc: ffi_ns_rust_future_free_void,
            liftFunc: { $0 },
            errorHandler: FfiConverterTypeCoreError_lift
        )
}
"#;
        format!(
            "// This file was autogenerated by some hot garbage in the `uniffi` crate.\n{BANNER}\n\
             private func uniffiCheckCallStatus() throws {{\n    switch code {{\n{ORIGINAL_CANCELLED}    }}\n}}\n\
             {}{call}public func uniffiEnsureNsInitialized() {{\n}}\n",
            ORIGINAL_CALL_ASYNC.replace("{INIT}", "uniffiEnsureNsInitialized")
        )
    }

    #[test]
    fn every_call_site_passes_the_cancel_function_of_its_type() -> Result<()> {
        let patched = patch(&sample())?;
        assert!(patched.contains(
            "            freeFunc: ffi_ns_rust_future_free_void,\n            cancelFunc: ffi_ns_rust_future_cancel_void,\n"
        ));
        assert!(patched.contains("withTaskCancellationHandler"));
        assert!(patched.contains("cancelFunc: @convention(c) (UInt64) -> (),"));
        assert!(patched.contains("    uniffiEnsureNsInitialized()\n    let rustFuture"));
        assert!(patched.contains(PATCHED_CANCELLED));
        assert!(!patched.contains("fatalError(\"Cancellation not supported yet\")"));
        assert!(patched.contains("Patched by `cargo xtask swift-bindings`"));
        Ok(())
    }

    #[test]
    fn a_changed_template_is_refused_not_half_patched() {
        let changed = sample().replace("var pollResult: Int8;", "var pollResult: Int8 = 0");
        let err = format!(
            "{:#}",
            patch(&changed)
                .err()
                .map_or(String::new(), |e| format!("{e:#}"))
        );
        assert!(
            err.contains("uniffiRustCallAsync") && err.contains("cancel.rs"),
            "{err}"
        );
    }

    #[test]
    fn patching_twice_is_refused() -> Result<()> {
        let once = patch(&sample())?;
        assert!(patch(&once).is_err());
        Ok(())
    }
}
