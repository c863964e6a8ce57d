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
        let slow = SlowMessageListener(delay: 0.2)
        let slowSubscription = client.observeMessages(listener: slow)
        let ignoringMessages = client.observeMessages(listener: IgnoringMessageListener())
        let ignoringStates = client.observeSyncState(listener: IgnoringSyncStateListener())

        try await client.startSync()
        try await client.waitForSyncState(.running, timeout: 30)
        let roomId = try await client.createRoom(name: "listeners", invite: [], encrypted: false)

        let started = Date()
        var sent: [String] = []
        for i in 0..<5 {
            sent.append(try await client.sendText(roomId: roomId, body: "slow \(i)"))
        }
        // Five sends must not wait on the slow listener (0.2 s per message).
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)

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

/// Blocks its core thread for `delay` per message, then records the id.
final class SlowMessageListener: MessageListener, @unchecked Sendable {
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

    var received: [String] {
        lock.lock()
        defer { lock.unlock() }
        return ids
    }
}

final class IgnoringMessageListener: MessageListener, @unchecked Sendable {
    func onMessage(message: Message) {}
}

final class IgnoringSyncStateListener: SyncStateListener, @unchecked Sendable {
    func onState(state: SyncState) {}
}
