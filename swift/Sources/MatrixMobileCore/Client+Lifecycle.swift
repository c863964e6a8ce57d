import Foundation

extension Client {
    /// Creates a client from Foundation URLs.
    ///
    /// The same as ``Client/create(config:)`` with `homeserverURL.absoluteString`
    /// and `dataDirectory.path`; the directory is created if missing.
    /// `additionalRootCertificates` (PEM) are trusted beside the platform's
    /// roots, for a homeserver behind a private CA.
    ///
    /// - Throws: `CoreError.InvalidArgument` when `dataDirectory` is not a
    ///   file URL, or as ``Client/create(config:)`` does.
    public static func create(
        homeserverURL: URL,
        dataDirectory: URL,
        storePassphrase: String? = nil,
        storeKey: Data? = nil,
        additionalRootCertificates: [String] = [],
        sharedWithOtherProcesses: Bool? = nil
    ) async throws -> Client {
        guard dataDirectory.isFileURL else {
            throw CoreError.InvalidArgument(detail: "dataDirectory must be a file URL: \(dataDirectory)")
        }
        let config = ClientConfig(
            homeserverUrl: homeserverURL.absoluteString,
            dataDir: dataDirectory.path,
            storePassphrase: storePassphrase,
            storeKey: storeKey,
            additionalRootCertificates: additionalRootCertificates,
            sharedWithOtherProcesses: sharedWithOtherProcesses
        )
        return try await create(config: config)
    }

    /// Logs out, reporting each phase to `onPhase` as it completes.
    ///
    /// The guarantees of ``Client/logout(options:listener:)`` hold when this
    /// returns. `onPhase` runs on one of the core's threads, not the caller's.
    public func logout(
        options: LogoutOptions = LogoutOptions(),
        onPhase: @escaping @Sendable (LifecyclePhase, UInt64) -> Void
    ) async throws -> LogoutReport {
        try await logout(options: options, listener: ClosureLifecycleListener(onPhase))
    }

    /// Closes the client without ending the session on the server, reporting
    /// each phase to `onPhase`. The session can be restored later.
    ///
    /// The guarantees of ``Client/close(listener:)`` hold when this returns.
    public func close(onPhase: @escaping @Sendable (LifecyclePhase, UInt64) -> Void) async throws -> CloseReport {
        try await close(listener: ClosureLifecycleListener(onPhase))
    }
}

/// A ``LifecycleListener`` that calls a closure for each phase.
public final class ClosureLifecycleListener: LifecycleListener, Sendable {
    private let body: @Sendable (LifecyclePhase, UInt64) -> Void

    /// `body` receives each phase and the milliseconds elapsed since the start.
    public init(_ body: @escaping @Sendable (LifecyclePhase, UInt64) -> Void) {
        self.body = body
    }

    public func onPhase(phase: LifecyclePhase, elapsedMs: UInt64) {
        body(phase, elapsedMs)
    }
}
