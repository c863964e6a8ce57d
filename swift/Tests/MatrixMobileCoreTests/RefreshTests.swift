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
}
