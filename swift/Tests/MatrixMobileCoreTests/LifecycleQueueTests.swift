import Foundation
import XCTest
@testable import MatrixMobileCore

/// `SerialLifecycleQueue`, the ordering and background-task logic of
/// `BackgroundPauser`, driving pause and resume on a real client.
final class LifecycleQueueTests: XCTestCase {
    func testQuickBackgroundForegroundRunsEachPauseBeforeItsResume() async throws {
        let (client, _, _) = try await loggedInClient("queue-order")
        try await client.startSync()
        try await client.waitForSyncState(.running, timeout: 30)
        let log = EventLog()
        let tasks = FakeBackgroundTasks(log)
        let errors = ErrorLog()
        let queue = SerialLifecycleQueue(
            client: RecordingClient(client, log), backgroundTasks: tasks, onError: { errors.record($0, $1) })

        // Background, foreground, background, foreground, all at once: the
        // core refuses a resume while a pause runs (Busy), so only running
        // them in order gets every one through.
        for request in [LifecycleRequest.pause, .resume, .pause, .resume] {
            queue.submit(request)
        }
        await queue.idle()

        let cycle = ["begin 1", "pause start", "pause end", "end 1", "resume start", "resume end"]
        let second = cycle.map { $0.replacingOccurrences(of: "1", with: "2") }
        XCTAssertEqual(log.events, cycle + second)
        XCTAssertEqual(errors.entries.map(\.description), [])
        XCTAssertEqual(tasks.openTasks, 0)
        // The last resume restarted sync, and the client works.
        try await client.waitForSyncState(.running, timeout: 30)
        let roomId = try await client.createRoom(name: "after the queue", invite: [], encrypted: false)
        XCTAssertFalse(roomId.isEmpty)
        _ = try await client.logout(options: LogoutOptions(), listener: nil)
    }

    func testAPauseFromTheQueueReallyPausesTheClient() async throws {
        let (client, _, _) = try await loggedInClient("queue-pause")
        let errors = ErrorLog()
        let queue = SerialLifecycleQueue(client: client, backgroundTasks: nil, onError: { errors.record($0, $1) })
        queue.submit(.pause)
        await queue.idle()
        await assertCoreError({ try await client.startSync() }, "startSync while paused") {
            if case .InvalidState = $0 { return true }
            return false
        }
        queue.submit(.resume)
        await queue.idle()
        try await client.startSync()
        try await client.waitForSyncState(.running, timeout: 30)
        XCTAssertEqual(errors.entries.map(\.description), [])
        _ = try await client.logout(options: LogoutOptions(), listener: nil)
    }

    func testErrorsOfPauseAndResumeReachTheHandlerWithTheirRequest() async throws {
        let (client, _, _) = try await loggedInClient("queue-errors")
        _ = try await client.close(listener: nil)
        let log = EventLog()
        let tasks = FakeBackgroundTasks(log)
        let errors = ErrorLog()
        let queue = SerialLifecycleQueue(client: client, backgroundTasks: tasks, onError: { errors.record($0, $1) })
        queue.submit(.pause)
        queue.submit(.resume)
        await queue.idle()

        let entries = errors.entries
        XCTAssertEqual(entries.map(\.request), [.pause, .resume])
        for entry in entries {
            guard case .ClientClosed = entry.error as? CoreError else {
                XCTFail("\(entry.request): expected ClientClosed, got \(entry.error)")
                continue
            }
        }
        // The failed pause still ended its background task.
        XCTAssertEqual(log.events, ["begin 1", "end 1"])
        XCTAssertEqual(tasks.openTasks, 0)
    }

    /// The system ends the background time while the pause runs: the task is
    /// ended once, by the expiration, the handler hears of it, and the pause
    /// still completes.
    func testAnExpiredBackgroundTaskEndsOnceAndIsReported() async throws {
        let (client, _, _) = try await loggedInClient("queue-expiry")
        let log = EventLog()
        let tasks = FakeBackgroundTasks(log)
        let errors = ErrorLog()
        let recording = RecordingClient(client, log, beforePause: { tasks.expireAll() })
        let queue = SerialLifecycleQueue(client: recording, backgroundTasks: tasks, onError: { errors.record($0, $1) })
        queue.submit(.pause)
        await queue.idle()

        XCTAssertEqual(log.events, ["begin 1", "expire 1", "end 1", "pause start", "pause end"])
        XCTAssertEqual(errors.entries.map(\.request), [.pause])
        XCTAssertTrue(errors.entries.first?.error is BackgroundTimeExpired)
        XCTAssertEqual(tasks.openTasks, 0)
        await assertCoreError({ try await client.startSync() }, "startSync after the expired pause") {
            if case .InvalidState = $0 { return true }
            return false
        }
        _ = try await client.close(listener: nil)
    }

    func testAFinishedQueueRunsWhatWasQueuedAndIgnoresTheRest() async throws {
        let (client, _, _) = try await loggedInClient("queue-finish")
        let log = EventLog()
        let queue = SerialLifecycleQueue(
            client: RecordingClient(client, log), backgroundTasks: nil, onError: { _, _ in })
        queue.submit(.pause)
        queue.finish()
        queue.submit(.resume)
        await queue.idle()
        let ran = await eventually(timeout: 10) { log.events == ["pause start", "pause end"] }
        XCTAssertTrue(ran, "events: \(log.events)")
        _ = try await client.close(listener: nil)
    }
}

/// Events in order, from any thread.
final class EventLog: @unchecked Sendable {
    // @unchecked Sendable, proved: `recorded` is read and written only between
    // `lock.lock()` and `lock.unlock()`; every other stored property is a
    // `let` of a Sendable type.
    private let lock = NSLock()
    private var recorded: [String] = []

    func append(_ event: String) {
        lock.lock()
        recorded.append(event)
        lock.unlock()
    }

    var events: [String] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}

/// Every error the queue reported, with its request.
final class ErrorLog: @unchecked Sendable {
    // @unchecked Sendable, proved: `recorded` is read and written only between
    // `lock.lock()` and `lock.unlock()`; every other stored property is a
    // `let` of a Sendable type.
    struct Entry {
        let request: LifecycleRequest
        let error: Error
        var description: String { "\(request): \(error)" }
    }

    private let lock = NSLock()
    private var recorded: [Entry] = []

    func record(_ request: LifecycleRequest, _ error: Error) {
        lock.lock()
        recorded.append(Entry(request: request, error: error))
        lock.unlock()
    }

    var entries: [Entry] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}

/// A real client whose pause and resume are logged as they start and end.
final class RecordingClient: LifecycleControlled, Sendable {
    private let client: Client
    private let log: EventLog
    /// Runs before the real pause starts.
    private let beforePause: (@Sendable () -> Void)?

    init(_ client: Client, _ log: EventLog, beforePause: (@Sendable () -> Void)? = nil) {
        self.client = client
        self.log = log
        self.beforePause = beforePause
    }

    func pause() async throws {
        beforePause?()
        log.append("pause start")
        defer { log.append("pause end") }
        try await client.pause()
    }

    func resume() async throws {
        log.append("resume start")
        defer { log.append("resume end") }
        try await client.resume()
    }
}

/// Background tasks as iOS grants them, with an expiration the test triggers:
/// like UIKit, an expiration ends the task itself when its handler says so.
final class FakeBackgroundTasks: BackgroundTaskAPI, @unchecked Sendable {
    // @unchecked Sendable, proved: `nextId` and `open` are read and written
    // only between `lock.lock()` and `lock.unlock()`; every other stored
    // property is a `let` of a Sendable type.
    private let lock = NSLock()
    private let log: EventLog
    private var nextId = 1
    private var open: [Int: @Sendable () -> Bool] = [:]

    init(_ log: EventLog) {
        self.log = log
    }

    func begin(name: String, expiration: @escaping @Sendable () -> Bool) async -> Int? {
        let id = register(expiration)
        log.append("begin \(id)")
        return id
    }

    func end(_ id: Int) async {
        endTask(id)
    }

    /// The system's expiration of every open task.
    func expireAll() {
        lock.lock()
        let expiring = open
        lock.unlock()
        for (id, handler) in expiring.sorted(by: { $0.key < $1.key }) {
            log.append("expire \(id)")
            if handler() {
                endTask(id)
            }
        }
    }

    var openTasks: Int {
        lock.lock()
        defer { lock.unlock() }
        return open.count
    }

    private func register(_ expiration: @escaping @Sendable () -> Bool) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let id = nextId
        nextId += 1
        open[id] = expiration
        return id
    }

    private func endTask(_ id: Int) {
        lock.lock()
        let wasOpen = open.removeValue(forKey: id) != nil
        lock.unlock()
        // Ending a task twice (or one never begun) is a bug in the queue.
        log.append(wasOpen ? "end \(id)" : "end \(id) AGAIN")
    }
}
