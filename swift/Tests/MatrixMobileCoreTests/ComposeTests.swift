import Foundation
import XCTest
@testable import MatrixMobileCore

/// Composing from Swift against the real Synapse (the Rust tests
/// `core/tests/chat/compose.rs`): Markdown, intentional mentions, emotes and
/// notices as the other user reads them, a reply by item id whose details
/// arrive, an edit, bad input refused before anything is queued, and the
/// unread mark and private receipt as `room(roomId:)` shows them.
final class ComposeTests: XCTestCase {
    private func text(_ body: String) -> OutgoingMessage {
        OutgoingMessage(body: body, kind: .text)
    }

    func testMessagesCarryMarkdownMentionsKindsRepliesAndEdits() async throws {
        let (alice, aliceSession, _) = try await loggedInClient("compose-alice")
        let (bob, bobSession, _) = try await loggedInClient("compose-bob")
        do {
            let bobId = bobSession.userId
            try await alice.startSync()
            try await bob.startSync()
            let roomId = try await alice.createRoom(name: "swift compose", invite: [bobId], encrypted: false)
            _ = try await bob.joinRoom(roomIdOrAlias: roomId)
            let theirs = try await bob.timeline(roomId: roomId)
            let bobItems = Snapshots(theirs.items(bufferingPolicy: .unbounded))
            let mine = try await alice.timeline(roomId: roomId)
            let aliceItems = Snapshots(mine.items(bufferingPolicy: .unbounded))

            try await mine.sendMessage(
                message: OutgoingMessage(body: "**hello** bob", markdown: true, kind: .text, mentions: [bobId]),
                inReplyToItem: nil)
            try await mine.sendMessage(message: text("no one in particular"), inReplyToItem: nil)
            try await mine.sendMessage(message: OutgoingMessage(body: "waves", kind: .emote), inReplyToItem: nil)
            try await mine.sendMessage(
                message: OutgoingMessage(body: "the room, noticed", kind: .notice, mentionRoom: true),
                inReplyToItem: nil)

            // A reply by the item id of a local echo, right after its send.
            try await mine.sendMessage(message: text("the original"), inReplyToItem: nil)
            let echoed = await eventually(timeout: 10) { events(aliceItems.latest).contains { $0.body == "the original" } }
            XCTAssertTrue(echoed, "the local echo never showed: \(events(aliceItems.latest))")
            let echo = try XCTUnwrap(events(aliceItems.latest).first { $0.body == "the original" }).itemId
            try await mine.sendMessage(message: text("a reply to it"), inReplyToItem: echo)

            let bodies = ["**hello** bob", "no one in particular", "waves", "the room, noticed", "a reply to it"]
            func bobs(_ body: String) -> EventView? {
                events(bobItems.latest).first { $0.body == body }
            }
            let all = await eventually(timeout: 30) { bodies.allSatisfy { bobs($0) != nil } }
            XCTAssertTrue(all, "bob's view lacks some: \(events(bobItems.latest).compactMap(\.body))")

            let hello = try XCTUnwrap(bobs("**hello** bob"))
            XCTAssertEqual(hello.sender, aliceSession.userId)
            if case let .text(_, html) = hello.content {
                XCTAssertTrue(html?.contains("<strong>hello</strong>") == true, "the HTML: \(String(describing: html))")
            } else {
                XCTFail("not a text message: \(hello.content)")
            }
            XCTAssertTrue(hello.mentionsMe, "bob is mentioned by name")
            let plain = try XCTUnwrap(bobs("no one in particular"))
            XCTAssertEqual(plain.content, .text(body: "no one in particular", formattedHtml: nil))
            XCTAssertFalse(plain.mentionsMe, "a message that mentions no one")
            let emote = try XCTUnwrap(bobs("waves"))
            if case .emote = emote.content {} else { XCTFail("not an emote: \(emote.content)") }
            XCTAssertFalse(emote.mentionsMe)
            let notice = try XCTUnwrap(bobs("the room, noticed"))
            if case .notice = notice.content {} else { XCTFail("not a notice: \(notice.content)") }
            XCTAssertTrue(notice.mentionsMe, "@room mentions everyone")

            let original = try XCTUnwrap(bobs("the original")?.eventId, "bob never saw the original")
            XCTAssertEqual(bobs("a reply to it")?.inReplyTo, original)
            let detailed = await eventually(timeout: 30) { bobs("a reply to it")?.reply != nil }
            XCTAssertTrue(detailed, "the reply's details never arrived: \(String(describing: bobs("a reply to it")))")
            let reply = bobs("a reply to it")?.reply
            XCTAssertEqual(reply?.eventId, original, "\(String(describing: reply))")
            XCTAssertEqual(reply?.sender, aliceSession.userId, "\(String(describing: reply))")
            XCTAssertEqual(reply?.preview, "the original", "\(String(describing: reply))")
            XCTAssertEqual(reply?.kind, .text(body: "the original"), "\(String(describing: reply))")

            // An edit of the original, formatted.
            try await mine.editMessage(
                itemId: echo, message: OutgoingMessage(body: "*edited* text", markdown: true, kind: .text))
            let edited = await eventually(timeout: 30) {
                guard let item = events(bobItems.latest).first(where: { $0.eventId == original }),
                      case let .text(body, html) = item.content
                else { return false }
                return item.edited && body == "*edited* text" && html?.contains("<em>edited</em>") == true
            }
            XCTAssertTrue(edited, "the edit never showed: \(String(describing: events(bobItems.latest).first { $0.eventId == original }))")

            // Bad input: refused, nothing queued.
            let invalid: (CoreError) -> Bool = {
                if case .InvalidArgument = $0 { return true }
                return false
            }
            await assertCoreError({ try await mine.sendMessage(message: self.text("  "), inReplyToItem: nil) },
                                  "a blank body", matches: invalid)
            await assertCoreError({
                try await mine.sendMessage(
                    message: OutgoingMessage(body: "hi", kind: .text, mentions: ["bob"]), inReplyToItem: nil)
            }, "a mention that is no user id", matches: invalid)
            await assertCoreError({ try await mine.editMessage(itemId: echo, message: self.text("")) },
                                  "an edit to nothing", matches: invalid)
            await assertCoreError({
                try await mine.sendMessage(message: self.text("to nothing"), inReplyToItem: "no-such-item")
            }, "a reply to an unknown item") {
                if case .NotFound = $0 { return true }
                return false
            }
            try await Task.sleep(nanoseconds: 500_000_000)
            let queued = events(aliceItems.latest).compactMap(\.body).filter { ["  ", "hi", "to nothing"].contains($0) }
            XCTAssertEqual(queued, [], "refused messages were queued")

            withExtendedLifetime((mine, theirs)) {}
            _ = try await alice.logout(options: LogoutOptions(), listener: nil)
            _ = try await bob.logout(options: LogoutOptions(), listener: nil)
        } catch {
            await closeQuietly(alice, bob)
            throw error
        }
    }

    func testTheUnreadMarkAndAPrivateReceiptShowInTheRoomSummary() async throws {
        let (alice, _, _) = try await loggedInClient("unread-alice")
        let (bob, bobSession, _) = try await loggedInClient("unread-bob")
        do {
            try await bob.startSync()
            let roomId = try await alice.createRoom(name: "swift unread", invite: [bobSession.userId], encrypted: false)
            _ = try await bob.joinRoom(roomIdOrAlias: roomId)
            XCTAssertFalse(try bob.room(roomId: roomId).isMarkedUnread)

            // The mark is back from sync before the call returns.
            try await bob.setMarkedUnread(roomId: roomId, unread: true)
            XCTAssertTrue(try bob.room(roomId: roomId).isMarkedUnread, "marked unread")
            try await bob.setMarkedUnread(roomId: roomId, unread: false)
            XCTAssertFalse(try bob.room(roomId: roomId).isMarkedUnread, "the mark cleared")

            // Alice's messages are unread and notify; a private receipt reads them.
            _ = try await alice.sendText(roomId: roomId, body: "one")
            _ = try await alice.sendText(roomId: roomId, body: "two")
            let unread = await eventually(timeout: 30) {
                guard let room = try? bob.room(roomId: roomId) else { return false }
                return room.unreadMessages > 0 && room.notificationCount > 0
            }
            XCTAssertTrue(unread, "bob's counts: \(String(describing: try? bob.room(roomId: roomId)))")
            let timeline = try await bob.timeline(roomId: roomId)
            let items = Snapshots(timeline.items(bufferingPolicy: .unbounded))
            let shown = await eventually(timeout: 30) { texts(items.latest).contains("two") }
            XCTAssertTrue(shown, "bob's timeline: \(texts(items.latest))")
            try await timeline.markAsReadPrivately()
            let read = await eventually(timeout: 30) { (try? bob.room(roomId: roomId))?.unreadMessages == 0 }
            XCTAssertTrue(read, "still unread: \(String(describing: try? bob.room(roomId: roomId)))")

            await assertCoreError({ try await bob.setMarkedUnread(roomId: "!nowhere:example.org", unread: true) },
                                  "an unknown room") {
                if case .NotFound = $0 { return true }
                return false
            }
            withExtendedLifetime(timeline) {}
            _ = try await alice.logout(options: LogoutOptions(), listener: nil)
            _ = try await bob.logout(options: LogoutOptions(), listener: nil)
        } catch {
            await closeQuietly(alice, bob)
            throw error
        }
    }
}
