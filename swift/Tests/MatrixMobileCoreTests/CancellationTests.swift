import Foundation
import XCTest
@testable import MatrixMobileCore

/// Cancelling the Swift task that awaits a call cancels the call in the core,
/// as Kotlin and Python cancellation do: the await ends at once with
/// `CancellationError` and the core's task for the call ends; a timeline and
/// its client stay usable after their calls were cancelled. Releasing
/// clients early leaves nothing behind either.
final class CancellationTests: XCTestCase {
    /// A login against a server that never answers waits for its 600 s
    /// request bound; cancelling its task must end it now, in the core too.
    func testCancellingAHangingLoginReturnsPromptlyAndEndsItsCoreTask() async throws {
        let server = try Blackhole()
        let client = try await blackholedClient(server, "cancel-login")
        let baseline = await settledAliveTasks()
        let login = Task { try await client.login(username: "someone", password: "pw", deviceName: nil) }
        let running = await eventually(timeout: 10) { callTasks("login") == 1 }
        XCTAssertTrue(running, "the login never reached the core")

        let cancelledAt = Date()
        login.cancel()
        let result = await login.result
        let elapsed = Date().timeIntervalSince(cancelledAt)
        assertCancelled(result, "the cancelled login")
        // "At once": the login itself would hang for 600 s. 3 s leaves a
        // debug build on a loaded two-core machine room (1 s flaked there).
        XCTAssertLessThan(elapsed, 3.0, "the cancelled login took \(elapsed) s to return")

        let ended = await eventually(timeout: 10) { callTasks("login") == 0 }
        XCTAssertTrue(ended, "the core's login task outlived its cancelled caller: \(runtimeStats().supervisedTasks)")
        let settled = await eventually(timeout: 10) { runtimeStats().aliveTasks <= baseline }
        XCTAssertTrue(settled, "alive tasks \(runtimeStats().aliveTasks) never returned to \(baseline)")
        _ = try await client.close(listener: nil)
    }

    func testCancellingManyConcurrentHangingCallsEndsEveryCoreTask() async throws {
        let server = try Blackhole()
        let client = try await blackholedClient(server, "cancel-many")
        // A restored session needs no request; room calls then hang on the server.
        try await client.restore(session: Session(
            userId: "@someone:localhost", deviceId: "SWIFTTESTDEVICE", accessToken: "not-a-real-token",
            refreshToken: nil, homeserverUrl: server.url))
        let baseline = await settledAliveTasks()
        let calls = (0..<20).map { i in
            Task { try await client.createRoom(name: "room \(i)", invite: [], encrypted: false) }
        }
        let running = await eventually(timeout: 10) { callTasks("create_room") == 20 }
        XCTAssertTrue(running, "\(callTasks("create_room")) of 20 calls reached the core")

        for call in calls {
            call.cancel()
        }
        for call in calls {
            assertCancelled(await call.result, "a cancelled createRoom")
        }
        let ended = await eventually(timeout: 10) { callTasks("create_room") == 0 }
        XCTAssertTrue(ended, "call tasks left: \(runtimeStats().supervisedTasks)")
        let settled = await eventually(timeout: 10) { runtimeStats().aliveTasks <= baseline }
        XCTAssertTrue(settled, "alive tasks \(runtimeStats().aliveTasks) never returned to \(baseline)")
        // The client still answers after its calls were cancelled.
        XCTAssertEqual(client.userId(), "@someone:localhost")
        _ = try await client.close(listener: nil)
    }

    /// A call made by a task that is already cancelled throws at once.
    func testACallInAnAlreadyCancelledTaskThrowsCancellationError() async throws {
        let server = try Blackhole()
        let client = try await blackholedClient(server, "cancel-before")
        let call = Task { () async throws -> Session in
            // Returns early, without throwing, once the task is cancelled.
            try? await Task.sleep(nanoseconds: 60_000_000_000)
            return try await client.login(username: "someone", password: "pw", deviceName: nil)
        }
        call.cancel()
        assertCancelled(await call.result, "a login in a cancelled task")
        let ended = await eventually(timeout: 10) { callTasks("login") == 0 }
        XCTAssertTrue(ended, "call tasks left: \(runtimeStats().supervisedTasks)")
        _ = try await client.close(listener: nil)
    }

    /// Against the real homeserver each call either finishes before its
    /// cancellation lands or ends with `CancellationError`; nothing leaks and
    /// the client keeps working.
    func testCancelledCallsLeaveNoTaskBehind() async throws {
        let (client, _, _) = try await loggedInClient("cancel")
        // Warm up: the first request opens the pooled HTTP connection.
        _ = try await client.createRoom(name: "warm-up", invite: [], encrypted: false)
        let baseline = runtimeStats().aliveTasks

        var cancelled = 0
        for i in 0..<20 {
            let call = Task { try await client.createRoom(name: "cancelled \(i)", invite: [], encrypted: false) }
            call.cancel()
            switch await call.result {
            case .success(let roomId):
                XCTAssertFalse(roomId.isEmpty, "call \(i): finished without a room id")
            case .failure(let error):
                XCTAssertTrue(error is CancellationError, "call \(i): expected CancellationError, got \(error)")
                cancelled += 1
            }
        }
        // The task is cancelled before it first runs: most calls never start.
        XCTAssertGreaterThan(cancelled, 0, "no call was cancelled: the test cancelled nothing")
        let settled = await eventually(timeout: 10) { runtimeStats().aliveTasks <= baseline }
        XCTAssertTrue(settled, "alive tasks \(runtimeStats().aliveTasks) never returned to \(baseline)")

        // The client is unharmed.
        let roomId = try await client.createRoom(name: "after", invite: [], encrypted: false)
        XCTAssertFalse(roomId.isEmpty)
        _ = try await client.logout(options: LogoutOptions(), listener: nil)
    }

    /// Cancelling the task that awaits a timeline call (a pagination, a
    /// send), at once or a few milliseconds later, ends the call's task in
    /// the core; a cancelled send is sent once or not at all, never left
    /// half queued. The timeline stays usable (it paginates to the room's
    /// start and sends), and the client's close keeps every drain promise:
    /// its matrix Client dropped, no task left behind, no store file open,
    /// nothing unsent.
    func testCancelledTimelineCallsLeaveTheClientUsableAndItsCloseKeepsEveryPromise() async throws {
        let quiet = await eventually(timeout: 30) { runtimeStats().liveClients == 0 }
        XCTAssertTrue(quiet, "earlier tests left \(runtimeStats().liveClients) clients live")
        let (client, _, _) = try await loggedInClient("cancel-timeline")
        let roomId = try await client.createRoom(name: "swift cancelled timeline calls", invite: [], encrypted: false)
        for i in 0..<20 {
            _ = try await client.sendText(roomId: roomId, body: "history \(i)")
        }
        try await client.startSync()
        let timeline = try await client.timeline(roomId: roomId)
        let items = Snapshots(timeline.items())

        var cancelledPages = 0
        var cancelledSends = 0
        var returned: [String] = []
        for delayMs: UInt64 in [0, 1, 5, 20, 50] {
            let page = Task { try await timeline.paginateBackwards(events: 2) }
            let body = "cancelled after \(delayMs) ms"
            let send = Task { try await timeline.sendText(body: body, inReplyTo: nil) }
            if delayMs > 0 {
                try await Task.sleep(nanoseconds: delayMs * 1_000_000)
            }
            page.cancel()
            send.cancel()
            if case .failure(let error) = await page.result {
                XCTAssertTrue(error is CancellationError, "pagination after \(delayMs) ms: expected CancellationError, got \(error)")
                cancelledPages += 1
            }
            switch await send.result {
            case .success:
                returned.append(body)
            case .failure(let error):
                XCTAssertTrue(error is CancellationError, "send after \(delayMs) ms: expected CancellationError, got \(error)")
                cancelledSends += 1
            }
        }
        XCTAssertGreaterThan(cancelledPages, 0, "no pagination was cancelled: the test cancelled nothing")
        XCTAssertGreaterThan(cancelledSends, 0, "no send was cancelled: the test cancelled nothing")
        let ended = await eventually(timeout: 10) {
            callTasks("paginate_backwards") + callTasks("timeline_send_text") == 0
        }
        XCTAssertTrue(ended, "call tasks left: \(runtimeStats().supervisedTasks)")
        // Every send that returned is sent, and no echo of a cancelled one
        // stays unsent or shows twice.
        let sends = { events(items.latest).filter { $0.body?.hasPrefix("cancelled after ") == true } }
        let settled = await eventually(timeout: 30) {
            let seen = sends()
            return returned.allSatisfy { body in seen.contains { $0.body == body } }
                && seen.allSatisfy { $0.eventId != nil }
        }
        XCTAssertTrue(settled, "sends that returned: \(returned); in the timeline: \(sends())")
        XCTAssertEqual(Set(sends().compactMap(\.body)).count, sends().count, "a message shows twice: \(sends())")

        // The timeline is still usable: it paginates to the start and sends.
        var atStart = false
        for _ in 0..<20 where !atStart {
            atStart = try await timeline.paginateBackwards(events: 20)
        }
        XCTAssertTrue(atStart, "pagination after the cancelled ones never reached the start of the room")
        try await timeline.sendText(body: "after the cancellations", inReplyTo: nil)
        let sent = await eventually(timeout: 30) {
            events(items.latest).contains { $0.body == "after the cancellations" && $0.eventId != nil }
        }
        XCTAssertTrue(sent, "the message after the cancellations was never sent")

        let report = try await client.close(listener: nil)
        XCTAssertTrue(report.clientDropped, "matrix Client not dropped: \(report)")
        XCTAssertEqual(report.tasksLeftBehind, 0, "\(report)")
        XCTAssertEqual(report.storeFilesOpenAfter, 0, "\(report)")
        XCTAssertEqual(report.unsentMessages, 0, "\(report)")
        let finished = await eventually(timeout: 5) { items.finished }
        XCTAssertTrue(finished, "the items stream did not finish at the close")
        await assertCoreError({ try await timeline.paginateBackwards(events: 5) }, "pagination after the close") {
            if case .ClientClosed = $0 { return true }
            return false
        }
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
    /// leak: the core closes it in the background once the call ends. 300
    /// releases by default (`MMC_SWIFT_RELEASE_ITERATIONS` sets another
    /// count): a call that resolved its client inside a spawned task lost
    /// that race about half the time.
    func testReleasingClientsRightAfterStartingACallIsHarmless() async throws {
        let iterations = Int(ProcessInfo.processInfo.environment["MMC_SWIFT_RELEASE_ITERATIONS"] ?? "") ?? 300
        let root = try makeTempDir("release")
        let config = try clientConfig(root)
        var calls: [Task<String?, Never>] = []
        calls.reserveCapacity(iterations)
        for i in 0..<iterations {
            var perClient = config
            perClient.dataDir = root.appendingPathComponent("c\(i)").path
            let client = try await Client.create(config: perClient)
            calls.append(Task { () -> String? in
                // Not logged in: stopSync succeeds, or meets the client's end.
                do {
                    try await client.stopSync()
                    return nil
                } catch CoreError.ClientClosed, CoreError.InvalidState, CoreError.Busy {
                    return nil
                } catch {
                    return "\(error)"
                }
            })
            // `client` goes out of scope here: the task holds the last reference.
        }
        var unexpected: [String] = []
        for call in calls {
            if let error = await call.value {
                unexpected.append(error)
            }
        }
        calls.removeAll()
        XCTAssertEqual(unexpected, [], "stopSync on a released client failed unexpectedly")

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

    private func assertCancelled<T>(
        _ result: Result<T, Error>, _ what: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        switch result {
        case .success:
            XCTFail("\(what): finished instead of being cancelled", file: file, line: line)
        case .failure(let error):
            XCTAssertTrue(error is CancellationError, "\(what): expected CancellationError, got \(error)",
                          file: file, line: line)
        }
    }
}
