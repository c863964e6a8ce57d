import Foundation
import XCTest
@testable import MatrixMobileCore

/// Listeners that are slow, or ignore what they get, must not stall the core.
///
/// A Swift listener cannot throw through the generated non-throwing protocol
/// methods, so "misbehaving" here means blocking its core thread and ignoring
/// events.
final class ListenerTests: XCTestCase {
    func testSlowAndIgnoringListenersDoNotStallTheCore() async throws {
        let (client, session, _) = try await loggedInClient("listeners")
        let slow = SlowMessageListener(delay: 1.0)
        let slowSubscription = try client.observeMessages(listener: slow)
        let ignoringMessages = try client.observeMessages(listener: IgnoringMessageListener())
        let ignoringStates = try client.observeSyncState(listener: IgnoringSyncStateListener())

        try await client.startSync()
        try await client.waitForSyncState(.running, timeout: 30)
        let roomId = try await client.createRoom(name: "listeners", invite: [], encrypted: false)

        let started = Date()
        var sent: [String] = []
        for i in 0..<5 {
            sent.append(try await client.sendText(roomId: roomId, body: "slow \(i)"))
        }
        // Five sends must not wait on the slow listener (1 s per message, so
        // sends that waited would take 4 s or more; they take about 1 s).
        XCTAssertLessThan(Date().timeIntervalSince(started), 4)

        let stored = try await eventually(timeout: 15) {
            let ids = Set(try await client.recentMessages(roomId: roomId, limit: 20).map(\.eventId))
            return sent.allSatisfy(ids.contains)
        }
        XCTAssertTrue(stored, "not every message reached recentMessages")
        // Every message of the burst reaches the slow listener, in order.
        let delivered = await eventually(timeout: 20) { sent.allSatisfy(slow.received.contains) }
        XCTAssertTrue(delivered, "the slow listener got \(slow.received.count) of \(sent.count)")
        let received = slow.received.filter(sent.contains)
        XCTAssertEqual(received, sent, "messages arrived out of order")
        XCTAssertEqual(client.syncState(), .running)
        XCTAssertEqual(client.userId(), session.userId)

        slowSubscription.cancel()
        let countAtCancel = slow.received.count
        _ = try await client.sendText(roomId: roomId, body: "after cancel")
        try await Task.sleep(nanoseconds: 1_000_000_000)
        XCTAssertEqual(slow.received.count, countAtCancel, "a cancelled subscription still delivered")

        ignoringMessages.cancel()
        ignoringStates.cancel()
        let report = try await client.logout(options: LogoutOptions(), listener: nil)
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
    }

    func testMessageStreamDeliversSentMessages() async throws {
        let (client, _, _) = try await loggedInClient("stream")
        try await client.startSync()
        try await client.waitForSyncState(.running, timeout: 30)
        let roomId = try await client.createRoom(name: "stream", invite: [], encrypted: false)

        let body = "streamed \(UUID().uuidString)"
        // The subscription exists once `messages()` returns.
        let stream = client.messages()
        let waiter = Task { () -> Message? in
            for await message in stream where message.body == body {
                return message
            }
            return nil
        }
        let eventId = try await client.sendText(roomId: roomId, body: body)
        let timeout = Task {
            try await Task.sleep(nanoseconds: 20_000_000_000)
            waiter.cancel()
        }
        let message = await waiter.value
        timeout.cancel()
        XCTAssertEqual(message?.eventId, eventId)
        XCTAssertEqual(message?.roomId, roomId)
        _ = try await client.logout(options: LogoutOptions(), listener: nil)
    }
}

extension ListenerTests {
    /// The streams end by themselves once the core lets go of their
    /// listeners, which logout does: a `for await` loop never hangs on a
    /// closed client.
    func testStreamsFinishWhenTheClientLogsOut() async throws {
        let (client, _, _) = try await loggedInClient("streamend")
        try await client.startSync()
        try await client.waitForSyncState(.running, timeout: 30)
        let stateStream = client.syncStates()
        let messageStream = client.messages()
        let states = Task { () -> Int in
            var count = 0
            for await _ in stateStream {
                count += 1
            }
            return count
        }
        let messages = Task { () -> Int in
            var count = 0
            for await _ in messageStream {
                count += 1
            }
            return count
        }
        _ = try await client.logout(options: LogoutOptions(), listener: nil)

        let watchdog = Task {
            try await Task.sleep(nanoseconds: 10_000_000_000)
            states.cancel()
            messages.cancel()
        }
        let ended = Date()
        _ = await states.value
        let statesEnded = Date().timeIntervalSince(ended)
        _ = await messages.value
        let messagesEnded = Date().timeIntervalSince(ended)
        watchdog.cancel()
        XCTAssertLessThan(statesEnded, 9, "the sync state stream did not finish after logout")
        XCTAssertLessThan(messagesEnded, 9, "the message stream did not finish after logout")
    }
}

extension ListenerTests {
    /// The end signals: a sync-state stream's last element is `.terminated`,
    /// and a message listener's last call is `onClosed()` (this part waits
    /// for the core to send it).
    func testAfterLogoutTheLastCallsAreTheEndSignals() async throws {
        let (client, _, _) = try await loggedInClient("endsignal")
        let recorder = RecordingMessageListener()
        let subscription = try client.observeMessages(listener: recorder)
        let stateStream = client.syncStates()
        let states = Task { () -> [SyncState] in
            var seen: [SyncState] = []
            for await state in stateStream {
                seen.append(state)
            }
            return seen
        }
        try await client.startSync()
        try await client.waitForSyncState(.running, timeout: 30)
        _ = try await client.logout(options: LogoutOptions(), listener: nil)

        let watchdog = Task {
            try await Task.sleep(nanoseconds: 10_000_000_000)
            states.cancel()
        }
        let seen = await states.value
        watchdog.cancel()
        XCTAssertEqual(seen.last, .terminated, "states: \(seen)")
        let closed = await eventually(timeout: 10) { recorder.calls.contains("closed") }
        XCTAssertTrue(closed, "onClosed() was not called")
        XCTAssertEqual(recorder.calls.last, "closed")
        subscription.cancel()
    }

    /// On a closed client, `observe*` throws; the streams finish at once
    /// instead (`syncStates()` after yielding `.terminated`).
    func testStreamsOnAClosedClientFinishAtOnce() async throws {
        let (client, _, _) = try await loggedInClient("closedstreams")
        _ = try await client.close(listener: nil)
        var states: [SyncState] = []
        for await state in client.syncStates() {
            states.append(state)
        }
        XCTAssertEqual(states, [.terminated])
        var messages = 0
        for await _ in client.messages() {
            messages += 1
        }
        XCTAssertEqual(messages, 0)
    }
}

/// Records every call, `onClosed()` as "closed"; safe from any thread.
final class RecordingMessageListener: MessageListener, @unchecked Sendable {
    // @unchecked Sendable, proved: `log` is read and written only between
    // `lock.lock()` and `lock.unlock()`; every other stored property is a
    // `let` of a Sendable type.
    private let lock = NSLock()
    private var log: [String] = []

    func onMessage(message: Message) {
        lock.lock()
        log.append(message.eventId)
        lock.unlock()
    }

    func onClosed() {
        lock.lock()
        log.append("closed")
        lock.unlock()
    }

    var calls: [String] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }
}

/// Blocks its core thread for `delay` per message, then records the id.
final class SlowMessageListener: MessageListener, @unchecked Sendable {
    // @unchecked Sendable, proved: `ids` is read and written only between
    // `lock.lock()` and `lock.unlock()`; every other stored property is a
    // `let` of a Sendable type.
    private let delay: TimeInterval
    private let lock = NSLock()
    private var ids: [String] = []

    init(delay: TimeInterval) {
        self.delay = delay
    }

    func onMessage(message: Message) {
        Thread.sleep(forTimeInterval: delay)
        lock.lock()
        ids.append(message.eventId)
        lock.unlock()
    }

    func onClosed() {}

    var received: [String] {
        lock.lock()
        defer { lock.unlock() }
        return ids
    }
}

final class IgnoringMessageListener: MessageListener, Sendable {
    func onMessage(message: Message) {}
    func onClosed() {}
}

final class IgnoringSyncStateListener: SyncStateListener, Sendable {
    func onState(state: SyncState) {}
}
