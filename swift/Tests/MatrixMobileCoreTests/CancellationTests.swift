import Foundation
import XCTest
@testable import MatrixMobileCore

/// Cancelling Swift tasks and releasing clients early leave nothing behind.
///
/// UniFFI 0.32's Swift bindings do not forward Task cancellation into Rust: a
/// cancelled task still waits for the core's call to finish. What must hold is
/// that nothing leaks and the core keeps working.
final class CancellationTests: XCTestCase {
    func testCancelledCallsLeaveNoTaskBehind() async throws {
        let (client, _, _) = try await loggedInClient("cancel")
        // Warm up: the first request opens the pooled HTTP connection.
        _ = try await client.createRoom(name: "warm-up", invite: [], encrypted: false)
        let baseline = runtimeStats().aliveTasks

        for i in 0..<20 {
            let call = Task { try await client.createRoom(name: "cancelled \(i)", invite: [], encrypted: false) }
            call.cancel()
            _ = await call.result
        }
        let settled = await eventually(timeout: 10) { runtimeStats().aliveTasks <= baseline }
        XCTAssertTrue(settled, "alive tasks \(runtimeStats().aliveTasks) never returned to \(baseline)")

        // The client is unharmed.
        let roomId = try await client.createRoom(name: "after", invite: [], encrypted: false)
        XCTAssertFalse(roomId.isEmpty)
        _ = try await client.logout(options: LogoutOptions(), listener: nil)
    }

    func testCancellingAStreamConsumerEndsItsLoop() async throws {
        let (client, _, _) = try await loggedInClient("streamcancel")
        try await client.startSync()
        let seen = Counter()
        let consumer = Task {
            for await _ in client.syncStates() {
                seen.increment()
            }
        }
        let first = await eventually(timeout: 10) { seen.value >= 1 }
        XCTAssertTrue(first, "the current state must come first")

        consumer.cancel()
        let watchdog = Task {
            try await Task.sleep(nanoseconds: 10_000_000_000)
            XCTFail("the consumer's loop did not end after cancel")
            _ = try? await client.close(listener: nil)  // ends the stream
        }
        await consumer.value
        watchdog.cancel()
        if client.state() != .closed {
            _ = try await client.logout(options: LogoutOptions(), listener: nil)
        }
    }

    /// Releasing a client while its call is in flight must neither crash nor
    /// leak: the core closes it in the background once the call ends.
    func testReleasingClientsRightAfterStartingACallIsHarmless() async throws {
        let iterations = Int(ProcessInfo.processInfo.environment["MMC_SWIFT_RELEASE_ITERATIONS"] ?? "") ?? 1_000
        let root = try makeTempDir("release")
        let config = try clientConfig(root)
        var calls: [Task<Void, Never>] = []
        calls.reserveCapacity(iterations)
        for i in 0..<iterations {
            var perClient = config
            perClient.dataDir = root.appendingPathComponent("c\(i)").path
            let client = try await Client.create(config: perClient)
            calls.append(Task { _ = try? await client.stopSync() })
            // `client` goes out of scope here: the task holds the last reference.
        }
        for call in calls {
            await call.value
        }
        calls.removeAll()

        let drained = await eventually(timeout: 120) { runtimeStats().liveClients == 0 }
        XCTAssertTrue(drained, "\(runtimeStats().liveClients) released clients were never closed")

        // The core still works end to end.
        let (client, _, _) = try await loggedInClient("after-release")
        let roomId = try await client.createRoom(name: "after release", invite: [], encrypted: false)
        XCTAssertFalse(roomId.isEmpty)
        let report = try await client.logout(options: LogoutOptions(), listener: nil)
        XCTAssertTrue(report.dataWiped)
        try? FileManager.default.removeItem(at: root)
    }
}
