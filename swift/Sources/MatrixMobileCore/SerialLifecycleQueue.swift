import Foundation

/// What the app's lifecycle asks of a client.
public enum LifecycleRequest: Sendable, Equatable {
    /// The app went to the background: release the database and file locks.
    case pause
    /// The app came back: undo the pause.
    case resume
}

/// The part of a client that the app's lifecycle drives. ``Client`` conforms.
public protocol LifecycleControlled: AnyObject, Sendable {
    func pause() async throws
    func resume() async throws
}

extension Client: LifecycleControlled {}

/// The platform's grant of running time in the background: on iOS,
/// `UIApplication.beginBackgroundTask(withName:expirationHandler:)` and
/// `endBackgroundTask(_:)`.
public protocol BackgroundTaskAPI: Sendable {
    /// Begins a background task named `name`; `nil` when the system refuses.
    ///
    /// When the system is about to end the task, the implementation calls
    /// `expiration` and, if it returns `true`, ends the task itself before
    /// returning to the system (on iOS, inside the expiration handler).
    func begin(name: String, expiration: @escaping @Sendable () -> Bool) async -> Int?

    /// Ends the background task `id` that ``begin(name:expiration:)`` returned.
    func end(_ id: Int) async
}

/// Reported for a pause whose background time ran out before it finished.
/// The pause goes on; iOS may suspend the app before it ends.
public struct BackgroundTimeExpired: Error, Sendable, Equatable {}

/// Runs pause and resume requests on a client one at a time, in the order they
/// were submitted, each pause inside a background task.
///
/// Guarantee: a request starts only after every request submitted before it
/// has finished, so a quick background → foreground → background runs pause,
/// resume, pause in that order, never resume before its pause. ``submit(_:)``
/// never blocks and never waits.
///
/// Each pause runs between ``BackgroundTaskAPI/begin(name:expiration:)`` and
/// ``BackgroundTaskAPI/end(_:)``. The task is ended exactly once: after the
/// pause, or by the system's expiration (then `onError` receives
/// ``BackgroundTimeExpired``), whichever comes first. Every error of
/// `pause()` or `resume()` goes to `onError` with the request it belongs to;
/// none is swallowed.
///
/// Releasing the queue, or ``finish()``, lets the requests already submitted
/// run, then ends the queue's task.
public final class SerialLifecycleQueue: Sendable {
    private enum Item: Sendable {
        case run(LifecycleRequest)
        case barrier(CheckedContinuation<Void, Never>)
    }

    private let items: AsyncStream<Item>.Continuation

    /// - Parameters:
    ///   - client: the client to pause and resume; the queue holds it until
    ///     the last request has run.
    ///   - backgroundTasks: the platform's background-task API; `nil` pauses
    ///     without asking for background time (platforms without the notion).
    ///   - onError: receives every failure, on the queue's task.
    public init(
        client: any LifecycleControlled,
        backgroundTasks: (any BackgroundTaskAPI)?,
        onError: @escaping @Sendable (LifecycleRequest, Error) -> Void
    ) {
        let (stream, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .unbounded)
        items = continuation
        // Detached: the requests never run on the submitter's actor (the main
        // actor, for the UIKit pauser).
        Task.detached {
            for await item in stream {
                switch item {
                case .barrier(let waiter):
                    waiter.resume()
                case .run(let request):
                    await Self.perform(request, client, backgroundTasks, onError)
                }
            }
        }
    }

    deinit {
        items.finish()
    }

    /// Queues `request` after every request submitted before it. Ignored
    /// after ``finish()``.
    public func submit(_ request: LifecycleRequest) {
        items.yield(.run(request))
    }

    /// Returns once every request submitted before this call has finished
    /// (at once after ``finish()``, whose queued requests still run).
    public func idle() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            if case .terminated = items.yield(.barrier(waiter)) {
                waiter.resume()
            }
        }
    }

    /// Accepts no more requests; those already submitted still run.
    public func finish() {
        items.finish()
    }

    private static func perform(
        _ request: LifecycleRequest,
        _ client: any LifecycleControlled,
        _ backgroundTasks: (any BackgroundTaskAPI)?,
        _ onError: @escaping @Sendable (LifecycleRequest, Error) -> Void
    ) async {
        switch request {
        case .resume:
            do {
                try await client.resume()
            } catch {
                onError(.resume, error)
            }
        case .pause:
            let ending = EndOnce()
            let id = await backgroundTasks?.begin(name: "MatrixMobileCore.pause") {
                guard ending.claim() else { return false }
                onError(.pause, BackgroundTimeExpired())
                return true
            }
            do {
                try await client.pause()
            } catch {
                onError(.pause, error)
            }
            if let id, ending.claim() {
                await backgroundTasks?.end(id)
            }
        }
    }
}

/// Lets exactly one of the racing callers of ``claim()`` end a background
/// task: the pause's end or the system's expiration.
private final class EndOnce: @unchecked Sendable {
    // @unchecked Sendable, proved: `claimed`, the only mutable state, is read
    // and written only in `claim()`, between `lock.lock()` and the deferred
    // `unlock()`.
    private let lock = NSLock()
    private var claimed = false

    /// `true` for the first call only.
    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if claimed {
            return false
        }
        claimed = true
        return true
    }
}
