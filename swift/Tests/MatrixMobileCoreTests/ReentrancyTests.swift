import Foundation
import XCTest
@testable import MatrixMobileCore

/// Listeners may call into the core from their callbacks: `runtimeStats()`,
/// `state()`, `rooms()`, and `cancel()` on their own subscription, with
/// nothing delivered after that `cancel()` returns.
final class ReentrancyTests: XCTestCase {
    func testListenersCallTheCoreAndCancelTheirOwnSubscriptionFromTheirCallbacks() async throws {
        let (client, _, _) = try await loggedInClient("reentrant")
        let roomId = try await client.createRoom(name: "re-entrant", invite: [], encrypted: false)
        let messages = ReentrantProbe(client: client)
        messages.subscription = try client.observeMessages(listener: messages)
        let states = ReentrantProbe(client: client)
        states.subscription = try client.observeSyncState(listener: states)

        try await client.startSync()
        let statesCancelled = await eventually(timeout: 30) { states.cancelled }
        XCTAssertTrue(statesCancelled, "the sync state listener's cancel() never returned")
        _ = try await client.sendText(roomId: roomId, body: "one")
        let messagesCancelled = await eventually(timeout: 30) { messages.cancelled }
        XCTAssertTrue(messagesCancelled, "the message listener's cancel() never returned")
        _ = try await client.sendText(roomId: roomId, body: "two")
        try await Task.sleep(nanoseconds: 500_000_000)

        for (name, probe) in [("states", states), ("messages", messages)] {
            XCTAssertEqual(probe.afterCancel, 0, "\(name): delivered after its own cancel()")
            XCTAssertFalse(probe.seen.isEmpty, "\(name): never called")
            XCTAssertTrue(probe.seen.allSatisfy { $0 == "running/loggedIn" }, "\(name): \(probe.seen)")
        }
        let report = try await client.logout(options: LogoutOptions(), listener: nil)
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
        XCTAssertEqual(messages.closed, 0, "a cancelled subscription got its end signal")
    }
}

/// Calls the core from its callbacks, then cancels its own subscription.
final class ReentrantProbe: MessageListener, SyncStateListener, @unchecked Sendable {
    // @unchecked Sendable, proved: `log`, `isCancelled`, `late`, `ended` and
    // `stored` (behind `subscription`) are read and written only between
    // `lock.lock()` and `lock.unlock()`. `client` is a `weak var` only because
    // Swift 6.0 has no `weak let`: it is assigned once, in `init`, before
    // `self` is shared, and afterwards only loaded; the runtime's loads of a
    // weak reference (and its zeroing when the client goes) are atomic.
    // `lock` is a `let` of a Sendable type.
    private let lock = NSLock()
    private weak var client: Client?
    private var log: [String] = []
    private var isCancelled = false
    private var late = 0
    private var ended = 0
    private var stored: Subscription?

    /// Set by the test once `observe*` returned; read by the callbacks.
    var subscription: Subscription? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }

    init(client: Client) {
        self.client = client
    }

    private func call() {
        lock.lock()
        if isCancelled {
            late += 1
        }
        lock.unlock()
        let runtime = runtimeStats().state
        let state = client?.state()
        _ = try? client?.rooms()
        lock.lock()
        log.append("\(runtime)/\(state.map { "\($0)" } ?? "gone")")
        let subscription = isCancelled ? nil : stored
        lock.unlock()
        if let subscription {
            subscription.cancel()
            lock.lock()
            isCancelled = true
            lock.unlock()
        }
    }

    func onMessage(message: Message) { call() }
    func onClosed() {
        lock.lock()
        ended += 1
        lock.unlock()
    }

    func onState(state: SyncState) {
        if state == .running { call() }
    }

    var cancelled: Bool { lock.lock(); defer { lock.unlock() }; return isCancelled }
    var afterCancel: Int { lock.lock(); defer { lock.unlock() }; return late }
    var closed: Int { lock.lock(); defer { lock.unlock() }; return ended }
    var seen: [String] { lock.lock(); defer { lock.unlock() }; return log }
}
