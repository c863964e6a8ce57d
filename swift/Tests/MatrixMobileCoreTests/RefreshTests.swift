import Foundation
import XCTest
@testable import MatrixMobileCore

/// Sessions that refresh, on the second homeserver that `cargo xtask test
/// swift` starts for this (`MMC_REFRESH_HOMESERVER_URL`), whose access tokens
/// expire every `MMC_REFRESH_TOKEN_LIFETIME_S` (5) seconds: a client logs in
/// with a refresh token, syncs and sends through several expiries with no
/// error, every refresh reaches `sessionEvents()` as `.refreshed` with new
/// tokens, and the latest session restores in a new client after its access
/// token expired (`getNotification` with it before is `Auth`: it never
/// refreshes).
final class RefreshTests: XCTestCase {
    /// How long the client sends through expiries; `MMC_REFRESH_RUN_SECS` for longer.
    private let runSeconds: UInt64 = ProcessInfo.processInfo.environment["MMC_REFRESH_RUN_SECS"]
        .flatMap { UInt64($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 12

    func testAClientSendsThroughTokenExpiriesAndItsLatestSessionRestores() async throws {
        let url = try refreshHomeserverURL()
        let lifetime = refreshTokenLifetime()
        let user = try await registerUser(on: url)
        let dir = try makeTempDir("refresh")
        let config = ClientConfig(homeserverUrl: url, dataDir: dir.path)
        let client = try await Client.create(config: config)
        var again: Client?
        do {
            let first = try await client.login(username: user.username, password: user.password, deviceName: "swift-refresh")
            XCTAssertNotNil(first.refreshToken, "login asked for a refresh token and this server gives them")
            let events = Recorded(client.sessionEvents())
            try await client.startSync()
            try await client.waitForSyncState(.running, timeout: 30)
            let roomId = try await client.createRoom(name: "refresh", invite: [], encrypted: false)

            let started = Date()
            var sent: [String] = []
            while Date().timeIntervalSince(started) < Double(runSeconds) {
                do {
                    sent.append(try await client.sendText(roomId: roomId, body: "message \(sent.count)"))
                } catch {
                    XCTFail("send \(sent.count) failed after \(Date().timeIntervalSince(started)) s: \(error)")
                    throw error
                }
                XCTAssertNotEqual(client.syncState(), .error, "sync failed after \(Date().timeIntervalSince(started)) s")
                try await Task.sleep(nanoseconds: 300_000_000)
            }
            // Every message is on the server, in order, with no gap.
            let onServer = try await client.recentMessages(roomId: roomId, limit: UInt32(sent.count)).map(\.eventId)
            XCTAssertEqual(onServer, sent)
            XCTAssertNotEqual(client.syncState(), .error)

            // Each refresh reached the stream; the last one is the client's session.
            let latestArrived = await eventually(timeout: 10) {
                if case .refreshed(let session) = events.all.last { session == client.session() } else { false }
            }
            XCTAssertTrue(latestArrived, "the latest refresh is not in the stream: \(events.all)")
            let all = events.all.compactMap { event -> Session? in
                if case .refreshed(let session) = event { session } else { nil }
            }
            XCTAssertEqual(all.count, events.all.count, "a token was refused: \(events.all)")
            // The current session (the login's) comes first, then each refresh.
            let sessions = Array(all.dropFirst())
            let minimum = max(1, Int(runSeconds / lifetime) - 1)
            XCTAssertGreaterThanOrEqual(sessions.count, minimum, "refreshes in \(runSeconds) s")
            let tokens = Set(sessions.map(\.accessToken) + [first.accessToken])
            XCTAssertEqual(tokens.count, sessions.count + 1, "a refresh repeated an access token")
            for session in sessions {
                XCTAssertEqual(session.userId, first.userId)
                XCTAssertEqual(session.deviceId, first.deviceId)
                XCTAssertNotNil(session.refreshToken, "a refreshed session without a refresh token")
            }
            guard let latest = sessions.last else {
                XCTFail("no refresh reached sessionEvents()")
                await closeQuietly(client)
                return
            }

            let closed = try await client.close(listener: nil)
            XCTAssertEqual(closed.storeFilesOpenAfter, 0)
            let ended = await eventually(timeout: 15) { events.finished }
            XCTAssertTrue(ended, "sessionEvents() did not finish at close")

            // The latest session restores once its access token has expired:
            // its refresh token carries it on.
            try await Task.sleep(nanoseconds: (lifetime + 1) * 1_000_000_000)
            // A notification extension never refreshes (the rotation would log
            // the app out behind its back): with the access token expired it
            // gets `Auth`, and the refresh token stays the app's, as the
            // restore below shows.
            await assertCoreError(
                { try await getNotification(config: config, session: latest, roomId: roomId, eventId: sent.last ?? "$e") },
                "getNotification with an expired access token"
            ) { if case .Auth = $0 { true } else { false } }
            let restored = try await Client.create(config: config)
            again = restored
            try await restored.restore(session: latest)
            _ = try await restored.sendText(roomId: roomId, body: "after restore")
            XCTAssertNotEqual(restored.session()?.accessToken, latest.accessToken, "the expired token was not refreshed")
            let report = try await restored.logout(options: LogoutOptions(), listener: nil)
            XCTAssertEqual(report.storeFilesOpenAfter, 0)
        } catch {
            if let again { await closeQuietly(again) }
            await closeQuietly(client)
            throw error
        }
    }

    /// The app's keystore, as a file (written atomically): the first
    /// `failFirst` saves throw as a full disk would.
    final class FileStore: SessionStore, @unchecked Sendable {
        // @unchecked Sendable, proved: the mutable counters are only read and written under `lock`; `url` and `failFirst` are immutable.
        let url: URL
        let failFirst: Int
        private let lock = NSLock()
        private var _calls = 0
        private var _onMain = false
        init(url: URL, failFirst: Int) {
            self.url = url
            self.failFirst = failFirst
        }
        var calls: Int { lock.withLock { _calls } }
        var savedOnMainThread: Bool { lock.withLock { _onMain } }

        func save(session: Session) throws {
            let call = lock.withLock { () -> Int in
                _calls += 1
                _onMain = _onMain || Thread.isMainThread
                return _calls
            }
            if call <= failFirst { throw CocoaError(.fileWriteOutOfSpace) }
            let fields = [session.userId, session.deviceId, session.accessToken, session.refreshToken ?? "", session.homeserverUrl]
            try fields.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        }

        func load() throws -> Session? {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
            let f = text.components(separatedBy: "\n")
            return Session(userId: f[0], deviceId: f[1], accessToken: f[2], refreshToken: f[3].isEmpty ? nil : f[3], homeserverUrl: f[4])
        }
    }

    func testASessionStoreSavesEachRefreshWithNoListenerAndIsAskedAgainAfterAFailure() async throws {
        let url = try refreshHomeserverURL()
        let user = try await registerUser(on: url)
        let dir = try makeTempDir("store")
        let config = ClientConfig(homeserverUrl: url, dataDir: dir.path)
        let client = try await Client.create(config: config)
        let store = FileStore(url: dir.deletingLastPathComponent().appendingPathComponent(dir.lastPathComponent + ".session"), failFirst: 1)
        var again: Client?
        do {
            try client.setSessionStore(store: store)
            let first = try await client.login(username: user.username, password: user.password, deviceName: "swift-store")
            XCTAssertThrowsError(try client.setSessionStore(store: store)) { error in
                guard case CoreError.InvalidState = error else { return XCTFail("\(error)") }
            }
            try await client.startSync()
            let roomId = try await client.createRoom(name: "store", invite: [], encrypted: false)
            // No listener: the refreshes reach the store alone; the first save
            // throws and the next refresh offers the session again.
            let started = Date()
            while try store.load() == nil || store.load() != client.session() {
                if Date().timeIntervalSince(started) > 40 {
                    XCTFail("the store never held the current session (\(store.calls) saves)")
                    break
                }
                _ = try await client.sendText(roomId: roomId, body: "keep going")
                try await Task.sleep(nanoseconds: 300_000_000)
            }
            XCTAssertGreaterThanOrEqual(store.calls, 2)
            XCTAssertNotEqual(try store.load()?.accessToken, first.accessToken)
            // A core thread, never the app's main thread.
            XCTAssertFalse(store.savedOnMainThread, "saved on the main thread")
            let closed = try await client.close(listener: nil)
            XCTAssertEqual(closed.storeFilesOpenAfter, 0)

            let restored = try await Client.create(config: config)
            again = restored
            try await restored.restore(session: try XCTUnwrap(try store.load()))
            _ = try await restored.sendText(roomId: roomId, body: "after restore")
            let report = try await restored.logout(options: LogoutOptions(), listener: nil)
            XCTAssertEqual(report.storeFilesOpenAfter, 0)
        } catch {
            if let again { await closeQuietly(again) }
            await closeQuietly(client)
            throw error
        }
    }
}
