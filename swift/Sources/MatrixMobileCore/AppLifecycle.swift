#if canImport(UIKit) && !os(watchOS)
import UIKit

/// Pauses a client when the app goes to the background and resumes it when
/// the app comes back.
///
/// While paused the core holds no database connection or file lock, so iOS
/// does not kill the suspended app for holding a SQLite lock (`0xdead10cc`).
/// The requests go through a ``SerialLifecycleQueue``: they run in the order
/// the notifications came, one at a time, each pause inside
/// `beginBackgroundTask`/`endBackgroundTask` (ended also when the system
/// expires it), and every failure reaches `onError`. Observation ends when
/// this object is released or ``stop()`` is called; requests already queued
/// still run.
@MainActor
public final class BackgroundPauser {
    private let queue: SerialLifecycleQueue
    private let center: NotificationCenter
    private var observers: [NSObjectProtocol] = []

    /// Starts observing the application's background and foreground
    /// notifications for `client`.
    ///
    /// - Parameter onError: receives each failed pause or resume with its
    ///   request (``BackgroundTimeExpired`` when iOS ended the background
    ///   time first), on a background thread.
    public init(
        client: Client,
        center: NotificationCenter = .default,
        onError: @escaping @Sendable (LifecycleRequest, Error) -> Void
    ) {
        let queue = SerialLifecycleQueue(client: client, backgroundTasks: UIKitBackgroundTasks(), onError: onError)
        self.queue = queue
        self.center = center
        // Delivered on the posting thread (the main thread for UIApplication),
        // so the submission order is the notification order.
        let background = center.addObserver(
            forName: UIApplication.didEnterBackgroundNotification, object: nil, queue: nil
        ) { _ in
            queue.submit(.pause)
        }
        let foreground = center.addObserver(
            forName: UIApplication.willEnterForegroundNotification, object: nil, queue: nil
        ) { _ in
            queue.submit(.resume)
        }
        observers = [background, foreground]
    }

    /// Returns once every request queued so far has run.
    public func idle() async {
        await queue.idle()
    }

    /// Stops observing. Idempotent.
    public func stop() {
        for observer in observers {
            center.removeObserver(observer)
        }
        observers = []
    }

    deinit {
        for observer in observers {
            center.removeObserver(observer)
        }
    }
}

/// UIKit's background tasks for ``SerialLifecycleQueue``.
struct UIKitBackgroundTasks: BackgroundTaskAPI {
    func begin(name: String, expiration: @escaping @Sendable () -> Bool) async -> Int? {
        await MainActor.run {
            let box = TaskIdentifierBox()
            box.id = UIApplication.shared.beginBackgroundTask(withName: name) {
                // Called on the main thread; the task must end before this returns.
                if expiration() {
                    UIApplication.shared.endBackgroundTask(box.id)
                }
            }
            return box.id == .invalid ? nil : box.id.rawValue
        }
    }

    func end(_ id: Int) async {
        await MainActor.run {
            UIApplication.shared.endBackgroundTask(UIBackgroundTaskIdentifier(rawValue: id))
        }
    }
}

/// The identifier that the expiration handler ends, set right after
/// `beginBackgroundTask` returns (both on the main thread).
private final class TaskIdentifierBox: @unchecked Sendable {
    // @unchecked Sendable, proved: `id` is written once, inside
    // `MainActor.run` in `begin`, and read there and in the expiration
    // handler, which UIKit calls on the main thread; the handler cannot run
    // before `begin`'s main-thread closure returns. Every access is on the
    // main thread, so none is concurrent.
    var id: UIBackgroundTaskIdentifier = .invalid
}
#endif
