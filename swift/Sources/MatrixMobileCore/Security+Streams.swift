import Foundation

// Keeping what matters, as `AsyncStream`s: the recovery state, incoming
// verification requests, a verification's states, and the session's token
// refreshes and refusals.
//
// The rules of `Client+Streams.swift` hold here too. Each stream owns one
// `Subscription`, cancelled when the stream terminates (the consuming task is
// cancelled, its `for await` loop is left, or the stream is released). Each
// stream finishes on the core's end signal (`onClosed()`, when the client
// logs out, closes or is shut down), and at once, empty, when the core
// refuses the registration (a client that is closing or closed:
// `ClientClosed`). The buffers are unbounded by default: these streams are
// sparse, and a dropped state or request would be a lost step of a flow the
// user is in.

extension Client {
    /// The account's recovery state as this device sees it: the current
    /// state first (`.unknown` before the first sync or check), then each
    /// change (`enableRecovery`, `recover`, another device's changes).
    ///
    /// Built on ``Client/observeRecoveryState(listener:)``. Finishes on the
    /// core's end signal; to read the state once, call
    /// ``Client/recoveryState()``.
    public func recoveryStates(
        bufferingPolicy: AsyncStream<RecoveryState>.Continuation.BufferingPolicy = .unbounded
    ) -> AsyncStream<RecoveryState> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            let listener = RecoveryStateStreamListener(continuation)
            do {
                let subscription = try observeRecoveryState(listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish()
            }
            withExtendedLifetime(listener) {}
        }
    }

    /// Each verification request another device of this user sends, as a
    /// ``Verification`` to answer: iterate its ``Verification/states(bufferingPolicy:)``
    /// and call `accept()`, `startSas()`, `confirm()` or `cancel()`.
    ///
    /// Built on ``Client/observeVerificationRequests(listener:)``; finishes
    /// on the core's end signal.
    public func verificationRequests(
        bufferingPolicy: AsyncStream<Verification>.Continuation.BufferingPolicy = .unbounded
    ) -> AsyncStream<Verification> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            let listener = VerificationRequestStreamListener(continuation)
            do {
                let subscription = try observeVerificationRequests(listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish()
            }
            withExtendedLifetime(listener) {}
        }
    }

    /// The session's token refreshes and the server's refusals, in the
    /// order they happen.
    ///
    /// One stream of ``SessionEvent``s rather than a stream of `Session`s,
    /// because an app must handle both: a refresh is something to store, a
    /// refusal something to show (a new login). The current session comes
    /// first (as `.refreshed`): a refresh is in it or yielded after it,
    /// never lost between the two. Built on ``Client/observeSession(listener:)``;
    /// finishes on the core's end signal (an `.authError` does not end it by
    /// itself, and comes once per refused token, however many requests the
    /// server refused).
    public func sessionEvents(
        bufferingPolicy: AsyncStream<SessionEvent>.Continuation.BufferingPolicy = .unbounded
    ) -> AsyncStream<SessionEvent> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            let listener = SessionStreamListener(continuation)
            do {
                let subscription = try observeSession(listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish()
            }
            withExtendedLifetime(listener) {}
        }
    }
}

extension Verification {
    /// The verification's states: the current one first (`.requested` for a
    /// new request), then each change, up to `.done` or `.cancelled`, after
    /// which the stream finishes.
    ///
    /// Built on ``Verification/observe(listener:)``. Also finishes on the
    /// core's end signal (the client ended before the verification did), and
    /// at once, empty, when the client has already ended. Acting from the
    /// loop is fine:
    ///
    /// ```swift
    /// for await state in verification.states() {
    ///     switch state {
    ///     case .requested: try await verification.accept()
    ///     case .ready: try await verification.startSas()
    ///     case .emojis(let emojis): if await userSaysTheyMatch(emojis) { try await verification.confirm() }
    ///     case .done, .cancelled: break
    ///     }
    /// }
    /// ```
    public func states(
        bufferingPolicy: AsyncStream<VerificationState>.Continuation.BufferingPolicy = .unbounded
    ) -> AsyncStream<VerificationState> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            let listener = VerificationStateStreamListener(continuation)
            do {
                let subscription = try observe(listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish()
            }
            withExtendedLifetime(listener) {}
        }
    }
}

/// What happens to the session's tokens, as ``Client/sessionEvents(bufferingPolicy:)``
/// yields it.
public enum SessionEvent: Sendable, Equatable, CustomStringConvertible {
    /// matrix-sdk refreshed the tokens: store this session in place of the
    /// one kept so far (the old tokens no longer work); `restore` takes it.
    case refreshed(Session)
    /// The server refused the token and no refresh could fix it. With
    /// `softLogout`, the device and its keys still exist: log in again as the
    /// same user on the same `dataDir`; without it the device is gone.
    case authError(softLogout: Bool)

    /// Leaves the tokens out, so that logging an event never logs a secret.
    public var description: String {
        switch self {
        case .refreshed(let session):
            return "refreshed(userId: \(session.userId), deviceId: \(session.deviceId), homeserverUrl: \(session.homeserverUrl))"
        case .authError(let softLogout):
            return "authError(softLogout: \(softLogout))"
        }
    }
}

// The listeners below are called on core threads. Their only stored state is
// an `AsyncStream.Continuation`, which is Sendable and may be used from any
// thread, so they are checked `Sendable`. Each finishes its stream on the end
// signal, and in `deinit`, when the core lets go of it.

/// Forwards recovery states.
private final class RecoveryStateStreamListener: RecoveryStateListener, Sendable {
    private let continuation: AsyncStream<RecoveryState>.Continuation

    init(_ continuation: AsyncStream<RecoveryState>.Continuation) {
        self.continuation = continuation
    }

    func onState(state: RecoveryState) {
        continuation.yield(state)
    }

    func onClosed() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}

/// Forwards incoming verification requests.
private final class VerificationRequestStreamListener: VerificationRequestListener, Sendable {
    private let continuation: AsyncStream<Verification>.Continuation

    init(_ continuation: AsyncStream<Verification>.Continuation) {
        self.continuation = continuation
    }

    func onRequest(verification: Verification) {
        continuation.yield(verification)
    }

    func onClosed() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}

/// Forwards a verification's states; finishes after `.done` or `.cancelled`.
private final class VerificationStateStreamListener: VerificationListener, Sendable {
    private let continuation: AsyncStream<VerificationState>.Continuation

    init(_ continuation: AsyncStream<VerificationState>.Continuation) {
        self.continuation = continuation
    }

    func onState(state: VerificationState) {
        continuation.yield(state)
        switch state {
        case .done, .cancelled:
            continuation.finish()
        case .requested, .ready, .emojis:
            break
        }
    }

    func onClosed() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}

/// Forwards token refreshes and refusals.
private final class SessionStreamListener: SessionListener, Sendable {
    private let continuation: AsyncStream<SessionEvent>.Continuation

    init(_ continuation: AsyncStream<SessionEvent>.Continuation) {
        self.continuation = continuation
    }

    func onSessionChanged(session: Session) {
        continuation.yield(.refreshed(session))
    }

    func onAuthError(softLogout: Bool) {
        continuation.yield(.authError(softLogout: softLogout))
    }

    func onClosed() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}
