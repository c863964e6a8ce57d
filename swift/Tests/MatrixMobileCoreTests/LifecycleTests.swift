import Foundation
import XCTest
@testable import MatrixMobileCore

/// The whole life of a client against the real homeserver: login, sync, a
/// room and a message, close and restore, logout with its report, shutdown
/// and a fresh runtime generation.
final class LifecycleTests: XCTestCase {
    func testWholeLifeFromLoginToShutdownAndANewGeneration() async throws {
        let user = try await registerUser()
        let dir = try makeTempDir("life")
        let client = try await Client.create(config: clientConfig(dir))
        XCTAssertEqual(client.state(), .created)
        XCTAssertNil(client.session())

        let session = try await client.login(username: user.username, password: user.password, deviceName: "swift-life")
        XCTAssertEqual(client.state(), .loggedIn)
        XCTAssertTrue(session.userId.hasPrefix("@\(user.username):"), session.userId)
        XCTAssertEqual(client.userId(), session.userId)
        XCTAssertEqual(client.session()?.accessToken, session.accessToken)

        try await client.startSync()
        try await client.waitForSyncState(.running, timeout: 30)
        XCTAssertEqual(client.syncState(), .running)

        let roomId = try await client.createRoom(name: "swift life", invite: [], encrypted: false)
        XCTAssertTrue(roomId.hasPrefix("!"), roomId)
        let body = "hello from swift \(UUID().uuidString)"
        let eventId = try await client.sendText(roomId: roomId, body: body)
        let seen = try await eventually(timeout: 15) {
            try await client.recentMessages(roomId: roomId, limit: 20)
                .contains { $0.eventId == eventId && $0.body == body && $0.sender == session.userId }
        }
        XCTAssertTrue(seen, "recentMessages never contained the sent message")
        let rooms = try client.rooms()
        XCTAssertTrue(rooms.contains { $0.roomId == roomId }, "rooms() lacks \(roomId)")

        // Close keeps the session on the server: a new client restores it.
        let closeReport = try await client.close(listener: nil)
        XCTAssertEqual(closeReport.serverLogout, .skipped)
        XCTAssertEqual(client.state(), .closed)
        XCTAssertFalse(closeReport.dataWiped)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path))

        let restored = try await Client.create(config: clientConfig(dir))
        try await restored.restore(session: session)
        XCTAssertEqual(restored.state(), .loggedIn)
        XCTAssertEqual(restored.userId(), session.userId)
        let stillThere = try await restored.recentMessages(roomId: roomId, limit: 20)
        XCTAssertTrue(stillThere.contains { $0.eventId == eventId }, "the restored client lost the message")

        // Logout: every guarantee is in the report, and the phases came in order.
        let phases = PhaseRecorder()
        let report = try await restored.logout(options: LogoutOptions(), listener: phases)
        XCTAssertEqual(report.serverLogout, .revoked)
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
        XCTAssertTrue(report.clientDropped, "client not dropped; warnings: \(report.warnings)")
        XCTAssertEqual(report.tasksLeftBehind, 0)
        XCTAssertTrue(report.dataWiped)
        XCTAssertTrue(report.runtimeRestarted, "the last client's logout must restart the runtime")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path), "data_dir survived the wipe")
        XCTAssertEqual(restored.state(), .closed)
        XCTAssertEqual(phases.phases.last, .done)
        XCTAssertEqual(report.phases.map(\.phase), phases.phases)
        XCTAssertEqual(runtimeStats().generation, report.runtimeGeneration)
        XCTAssertEqual(runtimeStats().liveClients, 0)

        // Shutdown, then the next client starts a fresh generation.
        let generation = runtimeStats().generation
        let shutdownReport = try await shutdown(options: ShutdownOptions())
        XCTAssertFalse(shutdownReport.alreadyShutDown)
        XCTAssertEqual(shutdownReport.tasksAbandoned, [])
        XCTAssertEqual(runtimeStats().state, .shutDown)
        let again = try await shutdown(options: ShutdownOptions())
        XCTAssertTrue(again.alreadyShutDown)

        let next = try await Client.create(config: clientConfig(try makeTempDir("life-next")))
        let stats = runtimeStats()
        XCTAssertEqual(stats.state, .running)
        XCTAssertGreaterThan(stats.generation, generation)
        XCTAssertEqual(stats.liveClients, 1)
        _ = try await next.close(listener: nil)
    }

    func testSecondLogoutGetsClientClosed() async throws {
        let (client, _, _) = try await loggedInClient("twice")
        _ = try await client.logout(options: LogoutOptions(), listener: nil)
        await assertCoreError({ try await client.logout(options: LogoutOptions(), listener: nil) }, "second logout") {
            if case .ClientClosed = $0 { return true }
            return false
        }
    }

    func testLogoutWithPhaseClosureReportsDoneLast() async throws {
        let (client, _, _) = try await loggedInClient("closure")
        let phases = PhaseRecorder()
        let report = try await client.logout { phase, elapsed in
            phases.onPhase(phase: phase, elapsedMs: elapsed)
        }
        XCTAssertEqual(phases.phases.last, .done)
        XCTAssertTrue(report.dataWiped)
    }
}
