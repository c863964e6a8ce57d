import Foundation
import XCTest
@testable import MatrixMobileCore

/// Notification settings from Swift against Synapse (the Rust tests
/// `core/tests/push/settings.rs`), with the test's own push gateway
/// (`PushGateway`, in `PushTests.swift`): a muted room's message is not
/// pushed while another room's later one is, and is pushed again after a
/// reset; a room's summary shows its own mode as soon as the call returns;
/// keywords; the account's defaults, where `Mute` is refused.
final class NotificationSettingsTests: XCTestCase {
    private static let notifyPath = "/_matrix/push/v1/notify"

    private let invalid: (CoreError) -> Bool = {
        if case .InvalidArgument = $0 { return true }
        return false
    }

    func testAMutedRoomIsNotPushedWhileAnotherRoomIsAndIsAgainAfterAReset() async throws {
        let gateway = try PushGateway(path: Self.notifyPath)
        defer { gateway.stop() }
        let (alice, _, _) = try await loggedInClient("mute-alice")
        let (bob, bobSession, _) = try await loggedInClient("mute-bob")
        do {
            try await alice.setPusher(pusher: PusherConfig(
                appId: "org.example.mmc.swift", pushkey: "swift-mute", gatewayUrl: gateway.url,
                deviceName: "swift test", lang: "en"))
            try await alice.startSync()
            let bobId = bobSession.userId
            let loud = try await alice.createRoom(name: "loud", invite: [bobId], encrypted: false)
            let quiet = try await alice.createRoom(name: "quiet", invite: [bobId], encrypted: false)
            _ = try await bob.joinRoom(roomIdOrAlias: loud)
            _ = try await bob.joinRoom(roomIdOrAlias: quiet)

            let mode = try await alice.roomNotificationMode(roomId: quiet)
            XCTAssertEqual(mode, .allMessages, "the default")
            try await alice.setRoomNotificationMode(roomId: quiet, mode: .mute)
            XCTAssertEqual(try alice.room(roomId: quiet).notificationMode, .mute)
            let muted = try await alice.roomNotificationMode(roomId: quiet)
            XCTAssertEqual(muted, .mute)

            // The muted room's message is not pushed; the loud room's, sent
            // after it, is.
            let hushed = try await bob.sendText(roomId: quiet, body: "shh")
            let heard = try await bob.sendText(roomId: loud, body: "hello")
            let pushed = await eventually(timeout: 30) { !gateway.posts(of: heard).isEmpty }
            XCTAssertTrue(pushed, "the loud room's message was never pushed")
            XCTAssertEqual(gateway.posts(of: hushed), [], "the muted room's message was pushed")

            // Back to the default: pushed again.
            try await alice.resetRoomNotificationMode(roomId: quiet)
            XCTAssertNil(try alice.room(roomId: quiet).notificationMode)
            let again = try await bob.sendText(roomId: quiet, body: "back")
            let pushedAgain = await eventually(timeout: 30) { !gateway.posts(of: again).isEmpty }
            XCTAssertTrue(pushedAgain, "the room's message after the reset was never pushed")
            XCTAssertEqual(gateway.posts(of: hushed), [], "the muted room's message was pushed late")

            _ = try await alice.logout(options: LogoutOptions(), listener: nil)
            _ = try await bob.logout(options: LogoutOptions(), listener: nil)
        } catch {
            await closeQuietly(alice, bob)
            throw error
        }
    }

    func testTheSummarysModeFollowsSetAndReset() async throws {
        let (alice, _, _) = try await loggedInClient("mode-alice")
        do {
            try await alice.startSync()
            let roomId = try await alice.createRoom(name: "modes", invite: [], encrypted: false)
            let summaries = Heard(try alice.roomSummaries(roomId: roomId, bufferingPolicy: .unbounded))
            XCTAssertNil(try alice.room(roomId: roomId).notificationMode, "no mode of its own yet")

            for mode in [RoomNotificationMode.mentionsAndKeywordsOnly, .mute, .allMessages] {
                try await alice.setRoomNotificationMode(roomId: roomId, mode: mode)
                XCTAssertEqual(try alice.room(roomId: roomId).notificationMode, mode, "room() after setting \(mode)")
                let read = try await alice.roomNotificationMode(roomId: roomId)
                XCTAssertEqual(read, mode)
                let streamed = await eventually(timeout: 10) { summaries.all.last?.notificationMode == mode }
                XCTAssertTrue(streamed, "roomSummaries after \(mode): \(summaries.all.map(\.notificationMode))")
            }
            try await alice.resetRoomNotificationMode(roomId: roomId)
            XCTAssertNil(try alice.room(roomId: roomId).notificationMode, "room() after the reset")
            let streamed = await eventually(timeout: 10) {
                summaries.count > 0 && summaries.all.last?.notificationMode == nil
            }
            XCTAssertTrue(streamed, "roomSummaries after the reset: \(summaries.all.map(\.notificationMode))")
            // And it stays reset (sync does not bring an old mode back).
            try await Task.sleep(nanoseconds: 2_000_000_000)
            XCTAssertNil(try alice.room(roomId: roomId).notificationMode, "the reset was undone")

            await assertCoreError({
                try await alice.setRoomNotificationMode(roomId: "!nowhere:example.org", mode: .mute)
            }, "an unknown room") {
                if case .NotFound = $0 { return true }
                return false
            }
            await assertCoreError({ try await alice.roomNotificationMode(roomId: "nonsense") },
                                  "a malformed room id", matches: invalid)
            _ = try await alice.logout(options: LogoutOptions(), listener: nil)
        } catch {
            await closeQuietly(alice)
            throw error
        }
    }

    func testKeywordsAreAddedListedSortedAndRemoved() async throws {
        let (alice, _, _) = try await loggedInClient("keywords")
        do {
            let none = try await alice.notificationKeywords()
            XCTAssertEqual(none, [])
            try await alice.addNotificationKeyword(keyword: "pineapple")
            try await alice.addNotificationKeyword(keyword: "pineapple")
            try await alice.addNotificationKeyword(keyword: "banana")
            let added = try await alice.notificationKeywords()
            XCTAssertEqual(added, ["banana", "pineapple"], "once each, sorted")
            try await alice.removeNotificationKeyword(keyword: "pineapple")
            try await alice.removeNotificationKeyword(keyword: "pineapple")
            let removed = try await alice.notificationKeywords()
            XCTAssertEqual(removed, ["banana"])
            await assertCoreError({ try await alice.addNotificationKeyword(keyword: "  ") },
                                  "a blank keyword", matches: invalid)
            let after = try await alice.notificationKeywords()
            XCTAssertEqual(after, ["banana"])
            _ = try await alice.logout(options: LogoutOptions(), listener: nil)
        } catch {
            await closeQuietly(alice)
            throw error
        }
    }

    func testDefaultsMoveOneAtATimeAndMuteIsNoDefault() async throws {
        let (alice, _, _) = try await loggedInClient("defaults")
        do {
            let group = try await alice.defaultNotificationMode(isDirect: false)
            XCTAssertEqual(group, .allMessages)
            let direct = try await alice.defaultNotificationMode(isDirect: true)
            XCTAssertEqual(direct, .allMessages)

            try await alice.setDefaultNotificationMode(isDirect: false, mode: .mentionsAndKeywordsOnly)
            let groupNow = try await alice.defaultNotificationMode(isDirect: false)
            XCTAssertEqual(groupNow, .mentionsAndKeywordsOnly)
            let directNow = try await alice.defaultNotificationMode(isDirect: true)
            XCTAssertEqual(directNow, .allMessages, "the direct default moved with the groups'")

            await assertCoreError({ try await alice.setDefaultNotificationMode(isDirect: true, mode: .mute) },
                                  "Mute as the direct default", matches: invalid)
            await assertCoreError({ try await alice.setDefaultNotificationMode(isDirect: false, mode: .mute) },
                                  "Mute as the groups' default", matches: invalid)
            let directAfter = try await alice.defaultNotificationMode(isDirect: true)
            XCTAssertEqual(directAfter, .allMessages, "a refused Mute changed the default")
            let groupAfter = try await alice.defaultNotificationMode(isDirect: false)
            XCTAssertEqual(groupAfter, .mentionsAndKeywordsOnly, "a refused Mute changed the default")

            try await alice.setDefaultNotificationMode(isDirect: false, mode: .allMessages)
            let back = try await alice.defaultNotificationMode(isDirect: false)
            XCTAssertEqual(back, .allMessages)
            _ = try await alice.logout(options: LogoutOptions(), listener: nil)
        } catch {
            await closeQuietly(alice)
            throw error
        }
    }
}
