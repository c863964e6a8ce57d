import Foundation
import XCTest
@testable import MatrixMobileCore

/// The chat streams against the real homeserver: a timeline's items (local
/// echo, edit, reaction, history), the room list (an invite, then joined,
/// filters), a reply and typing between two users, a file up and down, and
/// every stream ending at logout.
final class ChatTests: XCTestCase {
    /// How long a typing notice of matrix-sdk's lasts on the server unless
    /// renewed: Synapse drops it no sooner.
    private static let typingNoticeLifetime: TimeInterval = 4

    func testTimelineItemsShowEchoEditReactionHistoryAndEndAtLogout() async throws {
        let (client, _, _) = try await loggedInClient("chat-timeline")
        let roomId = try await client.createRoom(name: "swift chat", invite: [], encrypted: false)
        let history = (0..<15).map { "history \($0)" }
        for body in history {
            _ = try await client.sendText(roomId: roomId, body: body)
        }
        try await client.startSync()
        let timeline = try await client.timeline(roomId: roomId)
        let items = Snapshots(timeline.items(bufferingPolicy: .unbounded))
        let raw = Snapshots(timeline.updates())
        let typing = Snapshots(timeline.typing())
        let firstItems = await eventually(timeout: 10) { items.count > 0 }
        XCTAssertTrue(firstItems, "the items stream yielded nothing")
        let firstBatch = await eventually(timeout: 10) { raw.count > 0 }
        XCTAssertTrue(firstBatch, "the updates stream yielded nothing")
        if case .reset = raw.all.first?.first {} else {
            XCTFail("the first batch does not start with a reset: \(String(describing: raw.all.first?.first))")
        }

        // Back to the start of the room: the history, oldest first.
        var atStart = false
        for _ in 0..<20 where !atStart {
            atStart = try await timeline.paginateBackwards(events: 20)
        }
        XCTAssertTrue(atStart, "pagination never reached the start of the room")
        let loaded = await eventually(timeout: 10) {
            texts(items.latest).filter { $0.hasPrefix("history ") }.count == history.count
        }
        XCTAssertTrue(loaded, "history loaded: \(texts(items.latest))")
        XCTAssertEqual(texts(items.latest).filter { $0.hasPrefix("history ") }, history, "history in order")
        // The raw diffs, applied in order, give the same list.
        let rebuilt = await eventually(timeout: 10) {
            raw.all.reduce([TimelineItem]()) { apply($1, to: $0) } == items.latest
        }
        XCTAssertTrue(rebuilt, "apply(_:to:) over the raw updates differs from items()")

        // A local echo, then sent, under the same item id.
        try await timeline.sendText(body: "hello", inReplyTo: nil)
        let sent = await eventually(timeout: 20) {
            guard let hello = events(items.latest).first(where: { $0.body == "hello" }) else { return false }
            return hello.eventId != nil
        }
        XCTAssertTrue(sent, "the message was never sent: \(events(items.latest).filter { $0.body == "hello" })")
        let appearances = items.all.compactMap { snapshot in events(snapshot).first { $0.body == "hello" } }
        guard let echo = appearances.first, let final = appearances.last else {
            return XCTFail("the message never appeared")
        }
        XCTAssertEqual(echo.sendState, .sending, "the first appearance is a local echo being sent")
        XCTAssertNil(echo.eventId, "a local echo has no event id yet")
        XCTAssertEqual(final.itemId, echo.itemId, "the item id changed when the echo was sent")
        let eventId = try XCTUnwrap(final.eventId)
        // Sent, or already replaced by the server's copy (no send state).
        XCTAssertTrue(final.sendState == .sent(eventId: eventId) || final.sendState == nil,
                      "seen as \(appearances.map(\.sendState))")

        // An edit and a reaction, on the same item.
        try await timeline.edit(itemId: echo.itemId, body: "hello, edited")
        let edited = await eventually(timeout: 15) {
            events(items.latest).contains { $0.itemId == echo.itemId && $0.body == "hello, edited" && $0.edited }
        }
        XCTAssertTrue(edited, "the edit never showed: \(events(items.latest).suffix(2))")
        try await timeline.toggleReaction(itemId: echo.itemId, key: "👍")
        let reacted = await eventually(timeout: 15) {
            events(items.latest).contains { item in
                item.itemId == echo.itemId
                    && item.reactions.contains { $0.key == "👍" && $0.count == 1 && $0.byMe }
            }
        }
        XCTAssertTrue(reacted, "the reaction never showed: \(events(items.latest).suffix(2))")
        XCTAssertFalse(items.finished)

        // Logout ends every stream; the timeline refuses calls afterwards.
        let report = try await client.logout(options: LogoutOptions(), listener: nil)
        print("ChatTests timeline logout: storeFilesOpenAfter=\(String(describing: report.storeFilesOpenAfter)) tasksLeftBehind=\(report.tasksLeftBehind) unsentMessages=\(report.unsentMessages)")
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
        XCTAssertEqual(report.tasksLeftBehind, 0)
        let ended = await eventually(timeout: 5) { items.finished && raw.finished && typing.finished }
        XCTAssertTrue(ended, "streams not finished: items \(items.finished), updates \(raw.finished), typing \(typing.finished)")
        await assertCoreError({ try await timeline.paginateBackwards(events: 10) }, "paginate after logout") {
            if case .ClientClosed = $0 { return true }
            return false
        }
        await assertCoreError({ try await timeline.sendText(body: "too late", inReplyTo: nil) }, "send after logout") {
            if case .ClientClosed = $0 { return true }
            return false
        }
        // A stream begun on the closed timeline ends at once, empty.
        let late = Snapshots(timeline.items())
        let lateEnded = await eventually(timeout: 5) { late.finished }
        XCTAssertTrue(lateEnded, "a stream on a closed timeline did not finish")
        XCTAssertEqual(late.count, 0)
    }

    func testRoomListSeesAnInviteThenJoinedFollowsFiltersAndEndsAtLogout() async throws {
        let (alice, _, _) = try await loggedInClient("list-alice")
        let (bob, bobSession, _) = try await loggedInClient("list-bob")
        try await bob.startSync()
        let control = RoomListControl()
        let rooms = Snapshots(bob.roomList(
            options: RoomListOptions(pageSize: 20, filter: .all), control: control, bufferingPolicy: .unbounded))
        let raw = Snapshots(bob.roomListUpdates())
        XCTAssertTrue(control.isAttached, "the control is not driving the stream")
        let first = await eventually(timeout: 10) { rooms.count > 0 && raw.count > 0 }
        XCTAssertTrue(first, "the room list streams yielded nothing")
        if case .reset = raw.all.first?.first {} else {
            XCTFail("the first batch does not start with a reset: \(String(describing: raw.all.first?.first))")
        }

        let name = "swift garden \(UUID().uuidString.prefix(6))"
        let roomId = try await alice.createRoom(name: name, invite: [bobSession.userId], encrypted: false)
        let invited = await eventually(timeout: 30) {
            rooms.latest.contains { $0.roomId == roomId && $0.membership == .invited }
        }
        XCTAssertTrue(invited, "the invite never showed: \(rooms.latest.map { ($0.roomId, $0.membership) })")
        _ = try await bob.joinRoom(roomIdOrAlias: roomId)
        let joined = await eventually(timeout: 30) {
            rooms.latest.contains { $0.roomId == roomId && $0.membership == .joined }
        }
        XCTAssertTrue(joined, "the room never showed as joined: \(rooms.latest.map { ($0.roomId, $0.membership) })")
        let memberships = rooms.all.compactMap { $0.first { $0.roomId == roomId }?.membership }
        XCTAssertEqual(memberships.first, .invited, "seen as \(memberships)")
        XCTAssertEqual(memberships.last, .joined, "seen as \(memberships)")

        // The control drives the list while it is iterated.
        control.setFilter(.nameMatches(pattern: "no room is called \(UUID().uuidString)"))
        let emptied = await eventually(timeout: 10) { rooms.latest.isEmpty }
        XCTAssertTrue(emptied, "a filter matching nothing left \(rooms.latest.map(\.roomId))")
        control.setFilter(.nameMatches(pattern: String(name.dropFirst(6))))
        let matched = await eventually(timeout: 10) { rooms.latest.map(\.roomId) == [roomId] }
        XCTAssertTrue(matched, "the name filter shows \(rooms.latest.map(\.roomId))")
        control.loadMore()
        // The raw stream, applied, knows the room as joined too.
        let rawJoined = await eventually(timeout: 10) {
            raw.all.reduce([RoomSummary]()) { apply($1, to: $0) }
                .contains { $0.roomId == roomId && $0.membership == .joined }
        }
        XCTAssertTrue(rawJoined, "apply(_:to:) over the raw room list lacks the joined room")

        _ = try await alice.logout(options: LogoutOptions(), listener: nil)
        let report = try await bob.logout(options: LogoutOptions(), listener: nil)
        print("ChatTests room list logout: storeFilesOpenAfter=\(String(describing: report.storeFilesOpenAfter)) clientDropped=\(report.clientDropped) tasksLeftBehind=\(report.tasksLeftBehind)")
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
        XCTAssertTrue(report.clientDropped, "warnings: \(report.warnings)")
        XCTAssertEqual(report.tasksLeftBehind, 0)
        let ended = await eventually(timeout: 5) { rooms.finished && raw.finished && !control.isAttached }
        XCTAssertTrue(ended, "room list streams not finished: \(rooms.finished) \(raw.finished), control attached \(control.isAttached)")
        let late = Snapshots(bob.roomList())
        let lateEnded = await eventually(timeout: 5) { late.finished }
        XCTAssertTrue(lateEnded, "a room list of a closed client did not finish")
        XCTAssertEqual(late.count, 0)
    }

    /// A reply names the event it answers in both users' timelines: bob's
    /// reply to alice's message shows `inReplyTo` = her message's event id
    /// from its local echo on, and alice sees it from bob with the same
    /// `inReplyTo`, while the message it answers replies to nothing.
    func testAReplyNamesTheEventItAnswersInBothUsersTimelines() async throws {
        let (alice, aliceSession, _) = try await loggedInClient("reply-alice")
        let (bob, bobSession, _) = try await loggedInClient("reply-bob")
        let roomId = try await encryptedRoomOfTwo(alice, bob, bobUserId: bobSession.userId)
        let aliceTimeline = try await alice.timeline(roomId: roomId)
        let bobTimeline = try await bob.timeline(roomId: roomId)
        let aliceItems = Snapshots(aliceTimeline.items())
        let bobItems = Snapshots(bobTimeline.items())
        func event(_ body: String, in items: Snapshots<TimelineItem>) -> EventView? {
            events(items.latest).first { $0.body == body }
        }

        try await aliceTimeline.sendText(body: "the question", inReplyTo: nil)
        let delivered = await eventually(timeout: 30) { event("the question", in: bobItems)?.eventId != nil }
        XCTAssertTrue(delivered, "alice's message never reached bob: \(events(bobItems.latest))")
        let question = try XCTUnwrap(event("the question", in: bobItems))
        XCTAssertEqual(question.sender, aliceSession.userId)
        XCTAssertNil(question.inReplyTo, "a message sent without a reply target: \(question)")
        let questionId = try XCTUnwrap(question.eventId)

        try await bobTimeline.sendText(body: "the answer", inReplyTo: questionId)
        let echoed = await eventually(timeout: 10) { event("the answer", in: bobItems) != nil }
        XCTAssertTrue(echoed, "bob's reply never showed in his timeline: \(events(bobItems.latest))")
        let echo = try XCTUnwrap(event("the answer", in: bobItems))
        XCTAssertEqual(echo.inReplyTo, questionId, "bob's reply names the message it answers: \(echo)")
        let arrived = await eventually(timeout: 30) { event("the answer", in: aliceItems) != nil }
        XCTAssertTrue(arrived, "bob's reply never reached alice: \(events(aliceItems.latest))")
        let reply = try XCTUnwrap(event("the answer", in: aliceItems))
        XCTAssertEqual(reply.sender, bobSession.userId)
        XCTAssertEqual(reply.inReplyTo, questionId, "alice sees what bob's reply answers: \(reply)")
        let answered = try XCTUnwrap(event("the question", in: aliceItems))
        XCTAssertEqual(answered.eventId, questionId)
        XCTAssertNil(answered.inReplyTo, "the message answered replies to nothing: \(answered)")

        _ = try await alice.logout(options: LogoutOptions(), listener: nil)
        let report = try await bob.logout(options: LogoutOptions(), listener: nil)
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
        let ended = await eventually(timeout: 5) { aliceItems.finished && bobItems.finished }
        XCTAssertTrue(ended, "items streams not finished: alice \(aliceItems.finished), bob \(bobItems.finished)")
        withExtendedLifetime((aliceTimeline, bobTimeline)) {}
    }

    /// Typing goes from one user to the other: bob's typing stream shows
    /// alice only once she starts typing, and drops her once she stops,
    /// sooner than the server would let her notice expire; it ends at logout.
    func testTypingStartedThenStoppedIsSeenByTheOtherUser() async throws {
        let (alice, aliceSession, _) = try await loggedInClient("typing-alice")
        let (bob, bobSession, _) = try await loggedInClient("typing-bob")
        let roomId = try await encryptedRoomOfTwo(alice, bob, bobUserId: bobSession.userId)
        let aliceTimeline = try await alice.timeline(roomId: roomId)
        let bobTimeline = try await bob.timeline(roomId: roomId)
        let bobItems = Snapshots(bobTimeline.items())
        let typing = Snapshots(bobTimeline.typing(bufferingPolicy: .unbounded))
        // Bob's timeline runs (its first items) before alice acts.
        let running = await eventually(timeout: 10) { bobItems.count > 0 }
        XCTAssertTrue(running, "bob's timeline yielded nothing")
        XCTAssertFalse(typing.all.contains { $0.contains(aliceSession.userId) },
                       "alice typing before she started: \(typing.all)")

        let started = Date()
        try await aliceTimeline.setTyping(typing: true)
        let seen = await eventually(timeout: 30) { typing.all.contains { $0.contains(aliceSession.userId) } }
        XCTAssertTrue(seen, "bob never saw alice typing: \(typing.all)")
        try await aliceTimeline.setTyping(typing: false)
        // Seen typing before, so a latest list without her is her stop.
        let stopped = await eventually(timeout: 30) { !typing.latest.contains(aliceSession.userId) }
        XCTAssertTrue(stopped, "bob still sees alice typing: \(typing.all)")
        let stoppedAfter = Date().timeIntervalSince(started)
        XCTAssertLessThan(stoppedAfter, Self.typingNoticeLifetime,
                          "the stop was seen only after \(stoppedAfter) s, when the notice may have expired")

        _ = try await alice.logout(options: LogoutOptions(), listener: nil)
        let report = try await bob.logout(options: LogoutOptions(), listener: nil)
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
        let ended = await eventually(timeout: 5) { typing.finished && bobItems.finished }
        XCTAssertTrue(ended, "streams not finished: typing \(typing.finished), items \(bobItems.finished)")
        withExtendedLifetime((aliceTimeline, bobTimeline)) {}
    }

    func testAFileGoesUpAndComesBackByteForByte() async throws {
        let (client, _, dir) = try await loggedInClient("chat-file")
        let roomId = try await client.createRoom(name: "swift files", invite: [], encrypted: true)
        try await client.startSync()
        let timeline = try await client.timeline(roomId: roomId)
        let items = Snapshots(timeline.items())

        let work = try makeTempDir("chat-file-work")
        defer { try? FileManager.default.removeItem(at: work) }
        var generator = SystemRandomNumberGenerator()
        let bytes = Data((0..<150_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let file = work.appendingPathComponent("payload.bin")
        try bytes.write(to: file)
        let progress = ProgressRecorder()
        try await timeline.sendFile(path: file.path, mimetype: "application/octet-stream", caption: nil, progress: progress)

        let arrived = await eventually(timeout: 30) {
            events(items.latest).contains { $0.media != nil && $0.eventId != nil }
        }
        XCTAssertTrue(arrived, "the file never showed as sent: \(events(items.latest))")
        let media = try XCTUnwrap(events(items.latest).compactMap(\.media).first)
        XCTAssertTrue(media.encrypted, "a file in an encrypted room is encrypted")
        let (sent, total) = progress.last
        XCTAssertTrue(total > 0 && sent == total, "upload progress ended at \(sent)/\(total)")

        let dest = work.appendingPathComponent("downloaded.bin")
        let size = try await client.downloadMedia(source: media, destPath: dest.path)
        XCTAssertEqual(size, UInt64(bytes.count))
        XCTAssertEqual(try Data(contentsOf: dest), bytes, "the download differs from the upload")

        let report = try await client.logout(options: LogoutOptions(), listener: nil)
        print("ChatTests file logout: storeFilesOpenAfter=\(String(describing: report.storeFilesOpenAfter))")
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path))
        let ended = await eventually(timeout: 5) { items.finished }
        XCTAssertTrue(ended, "the items stream did not finish at logout")
        await assertCoreError({
            try await client.downloadMedia(source: media, destPath: dest.path + ".2")
        }, "download after logout") {
            if case .ClientClosed = $0 { return true }
            return false
        }
    }
}

/// Everything a stream yielded, and whether it finished; read from any task.
final class Snapshots<Element: Sendable>: @unchecked Sendable {
    // @unchecked Sendable, proved: `values` and `ended`, the only stored
    // `var`s, are read and written only between `lock.lock()` and
    // `lock.unlock()`; `lock` is a `let` of a Sendable type.
    private let lock = NSLock()
    private var values: [[Element]] = []
    private var ended = false

    init(_ stream: AsyncStream<[Element]>) {
        Task { [self] in
            for await value in stream {
                record(value)
            }
            markEnded()
        }
    }

    private func record(_ value: [Element]) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }

    private func markEnded() {
        lock.lock()
        ended = true
        lock.unlock()
    }

    var all: [[Element]] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }

    var latest: [Element] { all.last ?? [] }
    var count: Int { all.count }

    var finished: Bool {
        lock.lock()
        defer { lock.unlock() }
        return ended
    }
}

/// The last progress an upload reported.
final class ProgressRecorder: ProgressListener, @unchecked Sendable {
    // @unchecked Sendable, proved: `value` is read and written only between
    // `lock.lock()` and `lock.unlock()`.
    private let lock = NSLock()
    private var value: (UInt64, UInt64) = (0, 0)

    func onProgress(sent: UInt64, total: UInt64) {
        lock.lock()
        value = (sent, total)
        lock.unlock()
    }

    var last: (UInt64, UInt64) {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

/// The parts of an event item the tests look at.
struct EventView: CustomStringConvertible {
    let itemId: String
    let eventId: String?
    let sender: String
    let body: String?
    let media: MediaSource?
    let sendState: SendState?
    let edited: Bool
    /// The event id this message replies to.
    let inReplyTo: String?
    let reactions: [Reaction]
    let content: MessageContent
    /// The message replied to, once the core has it.
    let reply: ReplyDetails?
    let mentionsMe: Bool

    var description: String {
        "\(itemId) \(eventId ?? "-") \(sender) \(body ?? "-") \(String(describing: sendState)) reply to \(inReplyTo ?? "-")"
    }
}

func events(_ items: [TimelineItem]) -> [EventView] {
    items.compactMap { item in
        guard case let .event(eventId, sender, _, _, _, _, content, sendState, edited, inReplyTo, reactions, _, reply, mentionsMe) = item.kind else {
            return nil
        }
        var body: String?
        var media: MediaSource?
        switch content {
        case .text(let text, _), .emote(let text, _), .notice(let text, _):
            body = text
        case .media(_, let caption, let source, _, _, _):
            body = caption
            media = source
        default:
            break
        }
        return EventView(itemId: item.itemId, eventId: eventId, sender: sender, body: body, media: media,
                         sendState: sendState, edited: edited, inReplyTo: inReplyTo, reactions: reactions,
                         content: content, reply: reply, mentionsMe: mentionsMe)
    }
}

/// The text bodies of the event items, in order.
func texts(_ items: [TimelineItem]) -> [String] {
    events(items).compactMap { $0.media == nil ? $0.body : nil }
}
