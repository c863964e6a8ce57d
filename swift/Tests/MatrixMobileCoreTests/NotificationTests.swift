import Foundation
import XCTest
@testable import MatrixMobileCore

/// `getNotification` against the real homeserver, as a notification service
/// extension runs it: in another process (a child run of this test binary,
/// `testChildFetchesOneNotification`) on the stores of a client that keeps
/// syncing an encrypted room in this one, the message decrypts and the child
/// is left with no store file, task or client; the app's client stays
/// healthy. In-process: a live client on the data_dir answers itself (no
/// second client) and shows the push while it is paused (left paused),
/// `InvalidState` for another session;
/// once it is closed with its stores kept, the message decrypts from them,
/// three calls at once each get it; an unknown event is `NotFound`; bad input
/// `InvalidArgument`, a data_dir without stores `InvalidState`.
final class NotificationTests: XCTestCase {
    private static let childEnv = "MMC_SWIFT_NOTIFICATION_CHILD"
    private static let answerPrefix = "MMC-NOTIFICATION-ANSWER "

    func testAnotherProcessDecryptsWhileTheAppSyncsTheLiveClientAnswersInItsProcessClosedStoresServeIt() async throws {
        let (alice, aliceSession, aliceDir) = try await loggedInClient("notify-alice")
        let (bob, bobSession, _) = try await loggedInClient("notify-bob")
        var again: Client?
        do {
            let roomId = try await encryptedRoomOfTwo(alice, bob, bobUserId: bobSession.userId)

            // Another process, while alice keeps syncing here (Linux and
            // macOS; iOS has no child processes: that part is skipped there,
            // said in the log, and the in-process part below still runs).
            let body = "for your eyes only \(UUID().uuidString)"
            let eventId = try await bob.sendText(roomId: roomId, body: body)
            try await awaitMessage(alice, roomId, body)
            #if os(Linux) || os(macOS)
            let answer = try runChild(dir: aliceDir, session: aliceSession, roomId: roomId, eventId: eventId)
            XCTAssertEqual(answer["body"], body, "\(answer)")
            XCTAssertEqual(answer["sender"], bobSession.userId, "\(answer)")
            XCTAssertEqual(answer["roomId"], roomId, "\(answer)")
            XCTAssertEqual(answer["isEncrypted"], "true", "\(answer)")
            // What the child had left when getNotification returned.
            XCTAssertEqual(answer["filesOpen"], "0", "\(answer)")
            XCTAssertEqual(answer["liveClients"], "0", "\(answer)")
            XCTAssertEqual(answer["supervisedTasks"], "0", "\(answer)")
            XCTAssertEqual(answer["aliveTasks"], "0", "\(answer)")
            #else
            _ = eventId
            print("NotificationTests: the other-process part is skipped: iOS cannot start a child process")
            #endif
            XCTAssertEqual(alice.syncState(), .running, "the app's sync")

            // The app kept working through it, both ways.
            let mine = "still here \(UUID().uuidString)"
            _ = try await alice.sendText(roomId: roomId, body: mine)
            try await awaitMessage(bob, roomId, mine)
            let theirs = "and after \(UUID().uuidString)"
            let theirsId = try await bob.sendText(roomId: roomId, body: theirs)
            try await awaitMessage(alice, roomId, theirs)

            // In this process the directory belongs to alice's live client,
            // which answers; no second client opens the stores.
            let config = try clientConfig(aliceDir)
            let live = try await getNotification(config: config, session: aliceSession, roomId: roomId, eventId: theirsId)
            XCTAssertEqual(live?.body, theirs, "\(String(describing: live))")
            XCTAssertEqual(live?.eventId, theirsId)
            XCTAssertEqual(live?.kind, .message)
            XCTAssertEqual(live?.isDm, false)
            XCTAssertEqual(runtimeStats().liveClients, 2, "a second client opened the stores")
            // Not for another session; not while its stores are closed.
            await assertCoreError(
                { try await getNotification(config: config, session: bobSession, roomId: roomId, eventId: theirsId) },
                "another session on the live client's data_dir"
            ) { if case .InvalidState = $0 { true } else { false } }
            // Paused (in the background, its stores closed), it still shows
            // the push, and stays paused.
            try await alice.pause()
            let paused = try await getNotification(config: config, session: aliceSession, roomId: roomId, eventId: theirsId)
            XCTAssertEqual(paused?.body, theirs, "\(String(describing: paused))")
            await assertCoreError(
                { _ = try await alice.recentMessages(roomId: roomId, limit: 5) },
                "the client left paused"
            ) { if case .InvalidState = $0 { true } else { false } }
            try await alice.resume()

            // Closed with its stores kept, alice's stores serve the extension.
            let closed = try await alice.close(listener: nil)
            XCTAssertEqual(closed.storeFilesOpenAfter, 0)
            let item = try await getNotification(config: config, session: aliceSession, roomId: roomId, eventId: theirsId)
            XCTAssertEqual(item?.body, theirs, "\(String(describing: item))")
            XCTAssertEqual(item?.sender, bobSession.userId)
            XCTAssertEqual(item?.roomId, roomId)
            XCTAssertEqual(item?.isEncrypted, true)
            XCTAssertGreaterThan(item?.timestampMs ?? 0, 0)
            // Its short-lived client is gone again: bob's is the only one.
            XCTAssertEqual(runtimeStats().liveClients, 1)
            // Several pushes at once take turns on the stores: each gets its answer.
            async let one = getNotification(config: config, session: aliceSession, roomId: roomId, eventId: theirsId)
            async let two = getNotification(config: config, session: aliceSession, roomId: roomId, eventId: theirsId)
            async let three = getNotification(config: config, session: aliceSession, roomId: roomId, eventId: theirsId)
            let together = try await [one, two, three]
            XCTAssertEqual(together.map { $0?.body }, [theirs, theirs, theirs])
            let unknown = "$" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
            await assertCoreError(
                { try await getNotification(config: config, session: aliceSession, roomId: roomId, eventId: unknown) },
                "an event the server does not know"
            ) { if case .NotFound = $0 { true } else { false } }

            // The stores are the app's again.
            let restored = try await Client.create(config: config)
            again = restored
            try await restored.restore(session: aliceSession)
            let bodies = try await restored.recentMessages(roomId: roomId, limit: 20).map(\.body)
            XCTAssertTrue(bodies.contains(theirs), "after restore: \(bodies)")
            let loggedOut = try await restored.logout(options: LogoutOptions(), listener: nil)
            XCTAssertEqual(loggedOut.storeFilesOpenAfter, 0)
            let bobOut = try await bob.logout(options: LogoutOptions(), listener: nil)
            XCTAssertEqual(bobOut.storeFilesOpenAfter, 0)
        } catch {
            if let again { await closeQuietly(again) }
            await closeQuietly(alice, bob)
            throw error
        }
    }

    func testBadInputIsInvalidArgumentAndADataDirWithoutStoresIsInvalidState() async throws {
        let config = try clientConfig(try makeTempDir("notify-empty"))
        let session = Session(
            userId: "@someone:localhost", deviceId: "DEVICE", accessToken: "token",
            refreshToken: nil, homeserverUrl: try homeserverURL())
        for (room, event) in [("", "$e"), ("not a room", "$e"), ("!r:localhost", "no sigil")] {
            await assertCoreError(
                { try await getNotification(config: config, session: session, roomId: room, eventId: event) },
                "room `\(room)`, event `\(event)`"
            ) { if case .InvalidArgument = $0 { true } else { false } }
        }
        var relative = config
        relative.dataDir = "relative/dir"
        await assertCoreError(
            { try await getNotification(config: relative, session: session, roomId: "!r:localhost", eventId: "$e") },
            "a relative data_dir"
        ) { if case .InvalidArgument = $0 { true } else { false } }
        // Well-formed, but the directory holds no stores of this session.
        await assertCoreError(
            { try await getNotification(config: config, session: session, roomId: "!r:localhost", eventId: "$e") },
            "a data_dir without stores"
        ) { if case .InvalidState = $0 { true } else { false } }
        XCTAssertEqual(runtimeStats().liveClients, 0, "a refused call left a client")
    }

    /// The child's half: one `getNotification` on the stores the parent's
    /// client keeps syncing, then what this process has left, printed as one
    /// line of tab-separated `key=value` fields (`body` last). Does nothing
    /// unless run by the test above.
    func testChildFetchesOneNotification() async throws {
        let env = ProcessInfo.processInfo.environment
        guard env[Self.childEnv] == "1" else {
            throw XCTSkip("the child's half of the other-process part above, run only in its child process")
        }
        func value(_ name: String) throws -> String {
            guard let value = env[name] else { throw HarnessError(description: "\(name) is not set") }
            return value
        }
        let dir = try value("MMC_NOTIFY_DIR")
        let session = Session(
            userId: try value("MMC_NOTIFY_USER"), deviceId: try value("MMC_NOTIFY_DEVICE"),
            accessToken: try value("MMC_NOTIFY_TOKEN"), refreshToken: nil, homeserverUrl: try homeserverURL())
        let item = try await getNotification(
            config: clientConfig(URL(fileURLWithPath: dir)), session: session,
            roomId: try value("MMC_NOTIFY_ROOM"), eventId: try value("MMC_NOTIFY_EVENT"))
        let stats = runtimeStats()
        // Never a count that passes for want of a way to count.
        guard let filesOpen = openFiles(under: dir) else {
            throw HarnessError(description: "this platform gives no way to list the process's open files")
        }
        let fields: [(String, String)] = [
            ("found", "\(item != nil)"),
            ("sender", item?.sender ?? "nil"),
            ("roomId", item?.roomId ?? "nil"),
            ("isEncrypted", item.map { "\($0.isEncrypted)" } ?? "nil"),
            ("filesOpen", "\(filesOpen)"),
            ("liveClients", "\(stats.liveClients)"),
            ("supervisedTasks", "\(stats.supervisedTasks.count)"),
            ("aliveTasks", "\(stats.aliveTasks)"),
            ("body", item?.body ?? "nil"),
        ]
        print(Self.answerPrefix + fields.map { "\($0.0)=\($0.1)" }.joined(separator: "\t"))
        // Glibc's `stdout` is a mutable global that Swift 6 refuses to
        // reference from an async context: flush every C stream.
        fflush(nil)
    }

    #if os(Linux) || os(macOS)
    /// Runs `testChildFetchesOneNotification` in a new process of this test
    /// bundle (`childTestProcess`); returns its answer's fields.
    private func runChild(dir: URL, session: Session, roomId: String, eventId: String) throws -> [String: String] {
        let child = try childTestProcess("MatrixMobileCoreTests.NotificationTests", "testChildFetchesOneNotification")
        var env = ProcessInfo.processInfo.environment
        env[Self.childEnv] = "1"
        env["MMC_NOTIFY_DIR"] = dir.path
        env["MMC_NOTIFY_USER"] = session.userId
        env["MMC_NOTIFY_DEVICE"] = session.deviceId
        env["MMC_NOTIFY_TOKEN"] = session.accessToken
        env["MMC_NOTIFY_ROOM"] = roomId
        env["MMC_NOTIFY_EVENT"] = eventId
        child.environment = env
        let (stdout, stderr) = try runToEnd(child, timeout: 90)
        guard child.terminationReason == .exit, child.terminationStatus == 0 else {
            throw HarnessError(description: "the child failed (\(child.terminationReason.rawValue), \(child.terminationStatus)):\n\(stdout.suffix(3000))\n\(stderr.suffix(3000))")
        }
        guard let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix(Self.answerPrefix) }) else {
            throw HarnessError(description: "no answer from the child:\n\(stdout.suffix(3000))\n\(stderr.suffix(3000))")
        }
        var fields: [String: String] = [:]
        for field in line.dropFirst(Self.answerPrefix.count).split(separator: "\t", omittingEmptySubsequences: false) {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            fields[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return fields
    }
    #endif
}

/// Creates an encrypted room of `alice` with `bob` joined, both syncing;
/// returns its id.
func encryptedRoomOfTwo(_ alice: Client, _ bob: Client, bobUserId: String) async throws -> String {
    let roomId = try await alice.createRoom(name: "notified", invite: [bobUserId], encrypted: true)
    try await bob.startSync()
    try await bob.waitForSyncState(.running, timeout: 30)
    let invited = await eventually(timeout: 30) { (try? bob.room(roomId: roomId)) != nil }
    XCTAssertTrue(invited, "bob's invite")
    _ = try await bob.joinRoom(roomIdOrAlias: roomId)
    try await alice.startSync()
    try await alice.waitForSyncState(.running, timeout: 30)
    let joined = await eventually(timeout: 30) { (try? alice.room(roomId: roomId))?.joinedMembers == 2 }
    XCTAssertTrue(joined, "bob in the room, for alice")
    let encrypted = await eventually(timeout: 30) { (try? bob.room(roomId: roomId))?.isEncrypted == true }
    XCTAssertTrue(encrypted, "the room encrypted, for bob")
    return roomId
}

/// Waits until `client` has decrypted a message with `body` in `roomId`.
func awaitMessage(_ client: Client, _ roomId: String, _ body: String) async throws {
    let received = try await eventually(timeout: 30) {
        try await client.recentMessages(roomId: roomId, limit: 20).contains { $0.body == body }
    }
    if !received {
        throw HarnessError(description: "`\(body)` not received within 30 s")
    }
}
