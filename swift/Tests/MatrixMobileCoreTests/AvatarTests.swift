import Foundation
import XCTest
@testable import MatrixMobileCore

/// Avatars and the server's thumbnails from Swift (the Rust test
/// `core/tests/media/avatars.rs`): a room's avatar on its summary, a
/// sender's on his messages, `mediaSourceFromUrl` for an avatar URL from
/// elsewhere, and `downloadThumbnail` (authenticated media, then kept in the
/// media store: the same size again needs no server, which the test proves
/// by killing the `TcpProxy` alice reaches the homeserver through).
final class AvatarTests: XCTestCase {
    func testAvatarsReachSummariesAndMessagesAndTheirThumbnailsDownloadOnce() async throws {
        let proxy = try TcpProxy(upstreamURL: try homeserverURL())
        defer { proxy.die() }
        let user = try await registerUser()
        let aliceDir = try makeTempDir("avatar-alice")
        let files = try makeTempDir("avatar-files")
        defer {
            try? FileManager.default.removeItem(at: aliceDir)
            try? FileManager.default.removeItem(at: files)
        }
        let alice = try await Client.create(config: ClientConfig(homeserverUrl: proxy.url, dataDir: aliceDir.path))
        let aliceSession = try await alice.login(username: user.username, password: user.password, deviceName: "swift-avatar-alice")
        let (bob, bobSession, bobDir) = try await loggedInClient("avatar-bob")
        defer { try? FileManager.default.removeItem(at: bobDir) }
        do {
            let roomId = try await alice.createRoom(name: "faces", invite: [], encrypted: false)
            try await alice.startSync()

            // An unencrypted image, uploaded through the core, gives the mxc URL.
            let timeline = try await alice.timeline(roomId: roomId)
            let items = Snapshots(timeline.items(bufferingPolicy: .unbounded))
            let png = files.appendingPathComponent("face.png")
            try avatarPng.write(to: png)
            try await timeline.sendMedia(path: png.path, info: UploadInfo(width: 64, height: 64), progress: nil)
            func uploaded() -> MediaSource? {
                events(items.latest).first { $0.media != nil && $0.eventId != nil }?.media
            }
            let sent = await eventually(timeout: 60) { uploaded() != nil }
            XCTAssertTrue(sent, "the avatar was never uploaded: \(events(items.latest))")
            let source = try XCTUnwrap(uploaded())
            XCTAssertFalse(source.encrypted, "a file in an unencrypted room is not encrypted: \(source)")
            let mxc = source.url

            // The same URL from elsewhere (a profile, a push): the same source.
            let fromUrl = try mediaSourceFromUrl(url: mxc)
            XCTAssertEqual(fromUrl.url, mxc)
            XCTAssertFalse(fromUrl.encrypted)
            for bad in ["", "https://example.org/a.png", "mxc://", "mxc://server"] {
                await assertCoreError({ try mediaSourceFromUrl(url: bad) }, "mediaSourceFromUrl(\"\(bad)\")") {
                    if case .InvalidArgument = $0 { return true }
                    return false
                }
            }

            // The room's avatar, on its summary.
            try await putOnServer(
                path: "/_matrix/client/v3/rooms/\(escaped(roomId))/state/m.room.avatar",
                accessToken: aliceSession.accessToken,
                json: ["url": mxc])
            let onSummary = await eventually(timeout: 30) { (try? alice.room(roomId: roomId))?.avatar?.url == mxc }
            XCTAssertTrue(onSummary, "the room's avatar never reached its summary: \(String(describing: try? alice.room(roomId: roomId)))")
            let avatar = try XCTUnwrap(try alice.room(roomId: roomId).avatar)
            XCTAssertEqual(avatar, fromUrl)

            // A sender's avatar, on his messages: bob's profile has one
            // before he joins, so his membership carries it.
            try await putOnServer(
                path: "/_matrix/client/v3/profile/\(escaped(bobSession.userId))/avatar_url",
                accessToken: bobSession.accessToken,
                json: ["avatar_url": mxc])
            try await alice.invite(roomId: roomId, userId: bobSession.userId)
            try await bob.startSync()
            let invited = await eventually(timeout: 30) { (try? bob.room(roomId: roomId)) != nil }
            XCTAssertTrue(invited, "bob never saw his invite")
            _ = try await bob.joinRoom(roomIdOrAlias: roomId)
            let bobTimeline = try await bob.timeline(roomId: roomId)
            try await bobTimeline.sendText(body: "look at me", inReplyTo: nil)
            try await timeline.sendText(body: "no avatar here", inReplyTo: nil)
            let withAvatar = await eventually(timeout: 30) {
                (senderAvatar(items.latest, of: "look at me") ?? nil)?.url == mxc
            }
            XCTAssertTrue(withAvatar, "bob's avatar never reached his message: \(String(describing: senderAvatar(items.latest, of: "look at me")))")
            switch senderAvatar(items.latest, of: "no avatar here") {
            case .some(.none):
                break
            case let other:
                XCTFail("\(aliceSession.userId) set no avatar, her message shows \(String(describing: other))")
            }

            // The server's thumbnail, then the same from the media store with
            // the server gone (its open connections cut too).
            let dest = files.appendingPathComponent("thumb-32")
            let size = try await alice.downloadThumbnail(source: avatar, width: 32, height: 32, destPath: dest.path)
            let bytes = try Data(contentsOf: dest)
            XCTAssertEqual(size, UInt64(bytes.count))
            XCTAssertTrue(size > 0 && isImage(bytes), "not an image: \(Array(bytes.prefix(8)))")
            proxy.die()
            try await Task.sleep(nanoseconds: 300_000_000)
            let again = files.appendingPathComponent("thumb-32-again")
            let cached = try await alice.downloadThumbnail(source: avatar, width: 32, height: 32, destPath: again.path)
            XCTAssertEqual(cached, size, "the thumbnail from the media store")
            XCTAssertEqual(try Data(contentsOf: again), bytes)
            // A size never asked for needs the server.
            let other = files.appendingPathComponent("thumb-96")
            await assertCoreError({
                try await alice.downloadThumbnail(source: avatar, width: 96, height: 96, destPath: other.path)
            }, "a 96 x 96 thumbnail without the server") {
                if case .Network = $0 { return true }
                return false
            }

            // Bad input, typed: no size, too large a size, no such folder.
            let okDest = files.appendingPathComponent("t").path
            let cases: [(UInt32, UInt32, String)] = [(0, 32, okDest), (32, 4096, okDest), (32, 32, "/no/such/dir/t")]
            for (width, height, to) in cases {
                await assertCoreError({
                    try await alice.downloadThumbnail(source: avatar, width: width, height: height, destPath: to)
                }, "\(width) x \(height) to \(to)") {
                    if case .InvalidArgument = $0 { return true }
                    return false
                }
            }

            // Alice's server is gone: her logout ends locally.
            _ = try await alice.logout(options: LogoutOptions(serverTimeoutMs: 2_000), listener: nil)
            _ = try await bob.logout(options: LogoutOptions(), listener: nil)
        } catch {
            await closeQuietly(alice, bob)
            throw error
        }
    }
}

/// A 64 x 64 PNG, which the homeserver can scale: the bytes of
/// `core/tests/support/avatar.png` (the Rust test's), here so that the test
/// needs no file of the repository where it runs (an iOS simulator). Also
/// the avatar of `PeopleTests`.
let avatarPng = Data([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x40, 0x08, 0x02, 0x00, 0x00, 0x00, 0x25, 0x0b, 0xe6,
    0x89, 0x00, 0x00, 0x00, 0x51, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0xed, 0xcf, 0x41, 0x09, 0x00,
    0x30, 0x0c, 0xc0, 0xc0, 0x0c, 0x2a, 0x7c, 0xd2, 0xa7, 0x62, 0x8f, 0xc2, 0x85, 0x18, 0xb8, 0x53,
    0x77, 0x6a, 0xf3, 0xd3, 0xea, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xfe, 0xf7, 0x00, 0x22, 0x85, 0x03, 0x76, 0xde, 0x96, 0xbd, 0x54, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
])

/// The first bytes of a PNG or a JPEG file.
private func isImage(_ bytes: Data) -> Bool {
    bytes.starts(with: [0x89, 0x50, 0x4e, 0x47]) || bytes.starts(with: [0xff, 0xd8, 0xff])
}

/// The sender's avatar on the text message whose body is `body`: `nil` while
/// the message is not there, `.some(nil)` for a sender without one.
private func senderAvatar(_ items: [TimelineItem], of body: String) -> MediaSource?? {
    for item in items {
        if case let .event(_, _, _, avatar, _, _, .text(text, _), _, _, _, _, _, _, _) = item.kind, text == body {
            return .some(avatar)
        }
    }
    return nil
}
