import Foundation
import XCTest
@testable import MatrixMobileCore

/// The send queue without the server, from Swift: the client reaches the
/// homeserver through a `TcpProxy` that the test kills. A message sent then
/// keeps its local echo and is counted in `close()`'s `unsentMessages`;
/// `cancelSend` takes a queued one back (its echo goes) and says `false` for
/// a sent one.
final class OfflineTests: XCTestCase {
    func testAMessageSentOfflineKeepsItsEchoIsUnsentAtCloseAndCancelSendTakesOneBack() async throws {
        let proxy = try TcpProxy(upstreamURL: try homeserverURL())
        defer { proxy.die() }
        let user = try await registerUser()
        let dir = try makeTempDir("offline")
        defer { try? FileManager.default.removeItem(at: dir) }
        let client = try await Client.create(config: ClientConfig(homeserverUrl: proxy.url, dataDir: dir.path))
        _ = try await client.login(username: user.username, password: user.password, deviceName: "swift-offline")
        let roomId = try await client.createRoom(name: "swift offline", invite: [], encrypted: false)
        try await client.startSync()
        let timeline = try await client.timeline(roomId: roomId)
        let items = Snapshots(timeline.items(bufferingPolicy: .unbounded))
        func event(_ body: String) -> EventView? {
            events(items.latest).first { $0.body == body }
        }

        try await timeline.sendText(body: "before", inReplyTo: nil)
        let sent = await eventually(timeout: 20) { event("before")?.eventId != nil }
        XCTAssertTrue(sent, "the first message was never sent: \(String(describing: event("before")))")
        let before = try XCTUnwrap(event("before"))

        proxy.die()
        try await timeline.sendText(body: "kept", inReplyTo: nil)
        try await timeline.sendText(body: "taken back", inReplyTo: nil)
        let echoed = await eventually(timeout: 10) { event("kept") != nil && event("taken back") != nil }
        XCTAssertTrue(echoed, "the offline echoes never showed: \(events(items.latest))")
        let taken = try XCTUnwrap(event("taken back"))
        XCTAssertNil(taken.eventId, "an offline echo has no event id")

        let cancelled = try await timeline.cancelSend(itemId: taken.itemId)
        XCTAssertTrue(cancelled, "a queued message is taken back")
        let gone = await eventually(timeout: 10) { event("taken back") == nil }
        XCTAssertTrue(gone, "the taken-back echo stayed: \(events(items.latest))")
        let sentTakenBack = try await timeline.cancelSend(itemId: before.itemId)
        XCTAssertFalse(sentTakenBack, "a sent message cannot be taken back")

        // The other echo stays, unsent, while the server is unreachable.
        try await Task.sleep(nanoseconds: 2_000_000_000)
        let kept = try XCTUnwrap(event("kept"), "the offline echo is gone: \(events(items.latest))")
        XCTAssertNil(kept.eventId, "sent while the server was unreachable: \(kept)")
        switch kept.sendState {
        case .sending?, .failed(_, true)?:
            break
        default:
            XCTFail("the offline echo is neither queued nor retriable: \(String(describing: kept.sendState))")
        }

        let report = try await client.close(listener: nil)
        XCTAssertEqual(report.unsentMessages, 1, "the kept message is unsent at the close: \(report)")
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
        let ended = await eventually(timeout: 10) { items.finished }
        XCTAssertTrue(ended, "the items stream did not finish at the close")
        await assertCoreError({ try await timeline.sendText(body: "too late", inReplyTo: nil) }, "send after close") {
            if case .ClientClosed = $0 { return true }
            return false
        }
    }
}
