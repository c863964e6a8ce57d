import Foundation
import XCTest
@testable import MatrixMobileCore

/// `notificationFetcher` with the session kept in a file (`FileSessionStore`,
/// standing in for the Keychain item an app shares with its notification
/// extension).
///
/// On the second homeserver of `cargo xtask test swift`
/// (`MMC_REFRESH_HOMESERVER_URL`), whose access tokens expire every
/// `MMC_REFRESH_TOKEN_LIFETIME_S` (5) seconds: alice's client keeps its
/// refreshes in the file; once an encrypted room with bob is set up she
/// closes (her stores stay), and her access token expires. Bob sends two
/// messages; a fetcher in this process (no client of this process holds
/// alice's data_dir, so it opens its own short-lived client) reads both,
/// decrypted: it renewed the token through the store, which now holds new
/// access and refresh tokens. Its `close()` keeps the drain's promises; a
/// second one and a `get` after it are `ClientClosed`. Alice then takes up
/// the session the fetcher saved, on the same stores, and goes on receiving.
///
/// On the main homeserver: bad input is a typed error and opens nothing.
final class NotificationFetcherTests: XCTestCase {
    func testAFetcherRefreshesThroughTheStoreAndTheAppTakesTheSavedSessionUp() async throws {
        let url = try refreshHomeserverURL()
        let lifetime = refreshTokenLifetime()
        let aliceUser = try await registerUser(on: url)
        let bobUser = try await registerUser(on: url)
        let aliceDir = try makeTempDir("fetch-alice")
        let bobDir = try makeTempDir("fetch-bob")
        let aliceConfig = ClientConfig(homeserverUrl: url, dataDir: aliceDir.path)
        let store = FileSessionStore(url: aliceDir.deletingLastPathComponent()
            .appendingPathComponent(aliceDir.lastPathComponent + ".session"))
        let alice = try await Client.create(config: aliceConfig)
        let bob = try await Client.create(config: ClientConfig(homeserverUrl: url, dataDir: bobDir.path))
        var fetcher: NotificationFetcher?
        var again: Client?
        do {
            try alice.setSessionStore(store: store)
            let login = try await alice.login(username: aliceUser.username, password: aliceUser.password, deviceName: "swift-fetcher")
            XCTAssertNotNil(login.refreshToken, "login asked for a refresh token and this server gives them")
            try store.save(session: login)
            let bobSession = try await bob.login(username: bobUser.username, password: bobUser.password, deviceName: "swift-fetcher-bob")
            let roomId = try await encryptedRoomOfTwo(alice, bob, bobUserId: bobSession.userId)

            // The app goes away with its stores kept; the file holds its
            // latest session (its client saved each refresh there).
            let closed = try await alice.close(listener: nil)
            XCTAssertEqual(closed.storeFilesOpenAfter, 0, "alice's store files open after close")
            let closedWith = try XCTUnwrap(try store.load(), "the file lost the session")
            XCTAssertEqual(closedWith.userId, login.userId)
            XCTAssertEqual(closedWith.deviceId, login.deviceId)
            // Past the access token's lifetime.
            try await Task.sleep(nanoseconds: (lifetime + 1) * 1_000_000_000)
            let bodies = (0..<2).map { "later \($0) \(UUID().uuidString)" }
            var events: [String] = []
            for body in bodies {
                events.append(try await bob.sendText(roomId: roomId, body: body))
            }

            let opened = try await notificationFetcher(config: aliceConfig, store: store)
            fetcher = opened
            var items: [NotificationItem?] = []
            for event in events {
                items.append(try await opened.get(roomId: roomId, eventId: event))
            }
            XCTAssertEqual(items.map { $0?.body }, bodies, "the bodies read: \(items)")
            for item in items {
                XCTAssertEqual(item?.sender, bobSession.userId, "\(String(describing: item))")
                XCTAssertEqual(item?.roomId, roomId, "\(String(describing: item))")
                XCTAssertEqual(item?.isEncrypted, true, "the room is encrypted: \(String(describing: item))")
            }
            await assertCoreError(
                { try await opened.get(roomId: "not a room", eventId: events[0]) },
                "a bad room id"
            ) { if case .InvalidArgument = $0 { true } else { false } }
            // It renewed the expired token through the store, saved before use.
            let saved = try XCTUnwrap(try store.load(), "the file lost the session")
            XCTAssertEqual(saved.userId, closedWith.userId)
            XCTAssertEqual(saved.deviceId, closedWith.deviceId)
            XCTAssertNotEqual(saved.accessToken, closedWith.accessToken, "the fetcher did not refresh")
            XCTAssertNotEqual(saved.refreshToken, closedWith.refreshToken, "the fetcher did not save the refresh")
            XCTAssertNotNil(saved.refreshToken, "a refreshed session without a refresh token")

            let report = try await opened.close()
            XCTAssertTrue(report.clientDropped, "the fetcher's client was not dropped: \(report)")
            XCTAssertEqual(report.storeFilesOpenAfter, 0, "store files open after the fetcher's close: \(report)")
            XCTAssertEqual(report.tasksLeftBehind, 0, "tasks left behind: \(report)")
            await assertCoreError({ try await opened.close() }, "a second close") {
                if case .ClientClosed = $0 { true } else { false }
            }
            await assertCoreError({ try await opened.get(roomId: roomId, eventId: events[0]) }, "a get after close") {
                if case .ClientClosed = $0 { true } else { false }
            }

            // The fetcher spent the app's refresh token: the app takes up the
            // session the store keeps, on the same stores, and goes on.
            let restored = try await Client.create(config: aliceConfig)
            again = restored
            try restored.setSessionStore(store: store)
            try await restored.restore(session: try XCTUnwrap(try store.load()))
            try await restored.startSync()
            try await restored.waitForSyncState(.running, timeout: 30)
            try await awaitMessage(restored, roomId, bodies[1])
            let after = "still here \(UUID().uuidString)"
            _ = try await bob.sendText(roomId: roomId, body: after)
            try await awaitMessage(restored, roomId, after)
            XCTAssertNotEqual(restored.syncState(), .error, "alice's sync after taking the session up")

            let aliceOut = try await restored.logout(options: LogoutOptions(), listener: nil)
            XCTAssertEqual(aliceOut.storeFilesOpenAfter, 0, "alice's store files after logout")
            let bobOut = try await bob.logout(options: LogoutOptions(), listener: nil)
            XCTAssertEqual(bobOut.storeFilesOpenAfter, 0, "bob's store files after logout")
        } catch {
            if let fetcher { _ = try? await fetcher.close() }
            if let again { await closeQuietly(again) }
            await closeQuietly(alice, bob)
            throw error
        }
        try? FileManager.default.removeItem(at: store.url)
    }

    /// A store whose Keychain item is locked: both calls throw.
    final class LockedStore: SessionStore {
        func save(session: Session) throws { throw CocoaError(.fileLocking) }
        func load() throws -> Session? { throw CocoaError(.fileLocking) }
    }

    /// A store that keeps no session is `InvalidState`, a store whose `load`
    /// throws (a Swift error that is not a `CoreError`) is `Storage`, a config
    /// with an `ftp://` homeserver is `InvalidArgument`, and a session whose
    /// stores are not in the data_dir is `InvalidState`; none leaves a client.
    func testBadInputToAFetcherIsATypedErrorAndOpensNothing() async throws {
        // Earlier tests' background closes have finished.
        let quiet = await eventually(timeout: 30) { runtimeStats().liveClients == 0 }
        XCTAssertTrue(quiet, "clients of earlier tests still live")
        let dir = try makeTempDir("fetch-bad")
        let config = try clientConfig(dir)
        let nothingSaved = FileSessionStore(url: dir.deletingLastPathComponent()
            .appendingPathComponent(dir.lastPathComponent + ".none.session"))
        await assertCoreError(
            { try await notificationFetcher(config: config, store: nothingSaved) },
            "a store that keeps no session"
        ) { if case .InvalidState = $0 { true } else { false } }
        await assertCoreError(
            { try await notificationFetcher(config: config, store: LockedStore()) },
            "a store whose load throws"
        ) { if case .Storage = $0 { true } else { false } }
        var ftp = config
        ftp.homeserverUrl = "ftp://nowhere"
        await assertCoreError(
            { try await notificationFetcher(config: ftp, store: nothingSaved) },
            "an ftp:// homeserver"
        ) { if case .InvalidArgument = $0 { true } else { false } }
        // A session kept, but the data_dir holds no stores of it.
        let stranger = FileSessionStore(url: dir.deletingLastPathComponent()
            .appendingPathComponent(dir.lastPathComponent + ".stranger.session"))
        try stranger.save(session: Session(
            userId: "@nobody:localhost", deviceId: "NODEVICE", accessToken: "token",
            refreshToken: nil, homeserverUrl: try homeserverURL()))
        await assertCoreError(
            { try await notificationFetcher(config: config, store: stranger) },
            "a session whose stores are not in the data_dir"
        ) { if case .InvalidState = $0 { true } else { false } }
        try? FileManager.default.removeItem(at: stranger.url)
        XCTAssertEqual(runtimeStats().liveClients, 0, "a refused fetcher left a client")
    }
}
