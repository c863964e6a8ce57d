#if canImport(UIKit) && !os(watchOS)
import UIKit

/// Pauses a client when the app goes to the background and resumes it when
/// the app comes back.
///
/// While paused the core holds no database connection or file lock, so iOS
/// does not kill the suspended app for holding a SQLite lock. Observation ends
/// when this object is released or ``stop()`` is called.
@MainActor
public final class BackgroundPauser {
    private let client: Client
    private let center: NotificationCenter
    private var observers: [NSObjectProtocol] = []

    /// Starts observing the application's background and foreground
    /// notifications for `client`.
    public init(client: Client, center: NotificationCenter = .default) {
        self.client = client
        self.center = center
        let background = center.addObserver(
            forName: UIApplication.didEnterBackgroundNotification, object: nil, queue: .main
        ) { [client] _ in
            Task { try? await client.pause() }
        }
        let foreground = center.addObserver(
            forName: UIApplication.willEnterForegroundNotification, object: nil, queue: .main
        ) { [client] _ in
            Task { try? await client.resume() }
        }
        observers = [background, foreground]
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
#endif
