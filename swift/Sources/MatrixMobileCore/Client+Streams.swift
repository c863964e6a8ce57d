import Foundation

// Swift-native views of the core's listener registrations.
//
// Each stream owns one `Subscription`. The subscription is cancelled when the
// stream terminates: the consuming task is cancelled, its `for await` loop is
// left, or the stream is released. After that the core calls its listener no
// more. Each stream also finishes on the core's end signal, the listener's
// last call when the client closes, logs out or is shut down.

extension Client {
    /// The client's sync state as an `AsyncStream`: the current state first,
    /// then every change, and `.terminated` last.
    ///
    /// Built on ``Client/observeSyncState(listener:)``. The stream finishes
    /// after yielding `.terminated`, the core's end signal when the client
    /// closes, logs out or is shut down. On a client that is already closing or
    /// closed (where `observeSyncState` throws `CoreError.ClientClosed`), it
    /// yields `.terminated` and finishes at once. When the stream terminates
    /// early (the consuming task is cancelled, the loop breaks, or the stream is
    /// released), its subscription is cancelled, so the core stops delivering
    /// to it.
    ///
    /// - Parameter bufferingPolicy: how many states are kept while the consumer
    ///   is slow; the default keeps the newest 16.
    public func syncStates(
        bufferingPolicy: AsyncStream<SyncState>.Continuation.BufferingPolicy = .bufferingNewest(16)
    ) -> AsyncStream<SyncState> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            // Held here so that a refused registration cannot release the
            // listener (whose deinit finishes the stream) before the catch.
            let listener = SyncStateStreamListener(continuation)
            do {
                let subscription = try observeSyncState(listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                // ClientClosed: the client is past its end signal. Any other
                // error cannot be thrown from a stream either; it ends the same.
                continuation.yield(.terminated)
                continuation.finish()
            }
            withExtendedLifetime(listener) {}
        }
    }

    /// Every text message that sync delivers, as an `AsyncStream`.
    ///
    /// Built on ``Client/observeMessages(listener:)``, with the same ending
    /// rules as ``syncStates(bufferingPolicy:)``: the stream finishes on
    /// `onClosed()`, the core's end signal, and at once (empty) on a client that
    /// is already closing or closed. Messages are never dropped with the
    /// default, unbounded buffer.
    public func messages(
        bufferingPolicy: AsyncStream<Message>.Continuation.BufferingPolicy = .unbounded
    ) -> AsyncStream<Message> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            do {
                let subscription = try observeMessages(listener: MessageStreamListener(continuation))
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish()
            }
        }
    }

    /// Waits until the sync state is `state`.
    ///
    /// Returns as soon as the state is observed (at once if it is current).
    ///
    /// - Throws: `CoreError.Timeout` when `timeout` seconds pass first;
    ///   `CoreError.InvalidState` when the core stops delivering states first
    ///   (the client was closed); `CancellationError` when the calling task is
    ///   cancelled.
    public func waitForSyncState(_ state: SyncState, timeout: TimeInterval) async throws {
        let states = syncStates()
        let outcome = try await withThrowingTaskGroup(of: WaitOutcome.self) { group in
            group.addTask {
                for await observed in states where observed == state {
                    return .reached
                }
                return .ended
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(max(timeout, 0) * 1_000_000_000))
                return .timedOut
            }
            defer { group.cancelAll() }
            return try await group.next() ?? .ended
        }
        try Task.checkCancellation()
        switch outcome {
        case .reached:
            return
        case .ended:
            throw CoreError.InvalidState(detail: "sync states ended before \(state)")
        case .timedOut:
            throw CoreError.Timeout(operation: "waiting for sync state \(state)")
        }
    }
}

private enum WaitOutcome: Sendable {
    case reached, ended, timedOut
}

/// Forwards sync states into a stream; finishes it after `.terminated` (the
/// end signal), or when the core releases the listener.
private final class SyncStateStreamListener: SyncStateListener, Sendable {
    private let continuation: AsyncStream<SyncState>.Continuation

    init(_ continuation: AsyncStream<SyncState>.Continuation) {
        self.continuation = continuation
    }

    func onState(state: SyncState) {
        continuation.yield(state)
        if state == .terminated {
            continuation.finish()
        }
    }

    deinit {
        continuation.finish()
    }
}

/// Forwards messages into a stream; finishes it on `onClosed()` (the end
/// signal), or when the core releases the listener.
private final class MessageStreamListener: MessageListener, Sendable {
    private let continuation: AsyncStream<Message>.Continuation

    init(_ continuation: AsyncStream<Message>.Continuation) {
        self.continuation = continuation
    }

    func onMessage(message: Message) {
        continuation.yield(message)
    }

    func onClosed() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}
