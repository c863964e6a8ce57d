import Foundation
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
@testable import MatrixMobileCore

/// HTTP pushers from Swift against Synapse: `setPusher` registers this
/// device's pusher with the server (read back from `GET /pushers`), Synapse
/// posts another user's message to the test's own push gateway (a
/// `PushGateway` on loopback, which the harness lets Synapse reach) until
/// `removePusher`, an ids-only pusher's push carries no message content, and
/// bad input is `InvalidArgument`.
final class PushTests: XCTestCase {
    private static let notifyPath = "/_matrix/push/v1/notify"

    private func pusher(_ gatewayURL: String, _ pushkey: String, appId: String = "org.example.mmc.swift") -> PusherConfig {
        PusherConfig(appId: appId, pushkey: pushkey, gatewayUrl: gatewayURL, deviceName: "swift test", lang: "en")
    }

    /// The account's pushers as the server lists them: (pushkey, app_id, data.url).
    private func serverPushers(_ accessToken: String) async throws -> [(String, String, String)] {
        let base = try homeserverURL()
        guard let url = URL(string: base + "/_matrix/client/v3/pushers") else {
            throw HarnessError(description: "bad homeserver URL \(base)")
        }
        var request = URLRequest(url: url)
        request.setValue("Bearer \(accessToken)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? -1
        guard status == 200,
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let pushers = json["pushers"] as? [[String: Any]]
        else {
            throw HarnessError(description: "GET /pushers: HTTP \(status) \(String(data: data, encoding: .utf8) ?? "")")
        }
        return pushers.map { p in
            (p["pushkey"] as? String ?? "", p["app_id"] as? String ?? "", (p["data"] as? [String: Any])?["url"] as? String ?? "")
        }
    }

    func testSetPusherRegistersItAndRemovePusherRemovesIt() async throws {
        let (client, session, _) = try await loggedInClient("push")
        let gateway = "http://127.0.0.1:9" + Self.notifyPath
        let before = try await serverPushers(session.accessToken)
        XCTAssertTrue(before.isEmpty, "a new account has no pusher: \(before)")

        try await client.setPusher(pusher: pusher(gateway, "swift-pushkey-1"))
        var listed = try await serverPushers(session.accessToken)
        XCTAssertEqual(listed.count, 1, "\(listed)")
        XCTAssertEqual(listed.first?.0, "swift-pushkey-1")
        XCTAssertEqual(listed.first?.1, "org.example.mmc.swift")
        XCTAssertEqual(listed.first?.2, gateway)

        // Setting the same pushkey again replaces it rather than adding one.
        let other = "http://127.0.0.1:10" + Self.notifyPath
        try await client.setPusher(pusher: pusher(other, "swift-pushkey-1"))
        listed = try await serverPushers(session.accessToken)
        XCTAssertEqual(listed.map { $0.2 }, [other], "\(listed)")

        // An extension's pusher: ids only, APNs' mutable-content merged in,
        // as `pushers()` reads it back.
        var ios = pusher(other, "swift-pushkey-1")
        ios.format = .eventIdOnly
        ios.defaultPayloadJson = #"{"aps":{"mutable-content":1}}"#
        try await client.setPusher(pusher: ios)
        let read = try await client.pushers()
        XCTAssertEqual(read.count, 1, "\(read)")
        XCTAssertEqual(read.first?.format, .eventIdOnly)
        XCTAssertEqual(read.first?.gatewayUrl, other)
        XCTAssertEqual(read.first?.defaultPayloadJson?.replacingOccurrences(of: " ", with: ""), #"{"aps":{"mutable-content":1}}"#)

        try await client.removePusher(pushkey: "swift-pushkey-1")
        let remaining = try await client.pushers()
        XCTAssertEqual(remaining.count, 0, "\(remaining)")
        let after = try await serverPushers(session.accessToken)
        XCTAssertTrue(after.isEmpty, "the pusher is still listed: \(after)")
        // None left: removing it again is not an error.
        try await client.removePusher(pushkey: "swift-pushkey-1")
        _ = try await client.close(listener: nil)
    }

    /// Synapse pushes another user's message to the gateway of a pusher set
    /// with `setPusher`, naming the pushkey, the app, the room, the sender
    /// and the text. After `removePusher` nothing reaches that pushkey; a new
    /// pusher for an iOS extension (ids only, with APNs' `mutable-content`)
    /// gets the next message without its text.
    func testAPusherGetsAnotherUsersMessageUntilItIsRemoved() async throws {
        let gateway = try PushGateway(path: Self.notifyPath)
        defer { gateway.stop() }
        let (alice, _, _) = try await loggedInClient("push-alice")
        let (bob, bobSession, _) = try await loggedInClient("push-bob")
        try await alice.setPusher(pusher: pusher(gateway.url, "swift-pushkey-1"))
        let roomId = try await alice.createRoom(name: "swift push", invite: [bobSession.userId], encrypted: false)
        _ = try await bob.joinRoom(roomIdOrAlias: roomId)

        let first = try await bob.sendText(roomId: roomId, body: "wake up")
        let pushed = await eventually(timeout: 30) { !gateway.posts(of: first).isEmpty }
        XCTAssertTrue(pushed, "Synapse never pushed \(first)")
        let posts = gateway.posts(of: first)
        XCTAssertEqual(posts.count, 1, "\(posts)")
        let notification = try XCTUnwrap(posts.first.flatMap(pushNotification), "\(posts)")
        let device = (notification["devices"] as? [[String: Any]])?.first
        XCTAssertEqual(device?["pushkey"] as? String, "swift-pushkey-1", "\(notification)")
        XCTAssertEqual(device?["app_id"] as? String, "org.example.mmc.swift", "\(notification)")
        XCTAssertEqual(notification["room_id"] as? String, roomId, "\(notification)")
        XCTAssertEqual(notification["sender"] as? String, bobSession.userId, "\(notification)")
        XCTAssertEqual((notification["content"] as? [String: Any])?["body"] as? String, "wake up", "\(notification)")

        try await alice.removePusher(pushkey: "swift-pushkey-1")
        let between = try await bob.sendText(roomId: roomId, body: "no push for this")
        // A pusher set after the removal gets the next message, so the
        // missing push of `between` is not a delay.
        var ios = pusher(gateway.url, "swift-pushkey-2")
        ios.format = .eventIdOnly
        ios.defaultPayloadJson = #"{"aps":{"mutable-content":1}}"#
        try await alice.setPusher(pusher: ios)
        let last = try await bob.sendText(roomId: roomId, body: "the secret plan")
        let pushedAgain = await eventually(timeout: 30) { !gateway.posts(of: last).isEmpty }
        XCTAssertTrue(pushedAgain, "Synapse never pushed \(last)")
        let lastPosts = gateway.posts(of: last)
        XCTAssertEqual(lastPosts.count, 1, "\(lastPosts)")
        let lastPost = lastPosts.first ?? ""
        XCTAssertTrue(lastPost.contains(#""swift-pushkey-2""#), lastPost)
        XCTAssertTrue(lastPost.contains("mutable-content"), lastPost)
        XCTAssertFalse(lastPost.contains("the secret plan"), "an ids-only push carries the text: \(lastPost)")
        XCTAssertEqual(gateway.posts(of: between), [], "the message sent after removePusher was pushed")
        _ = try await alice.close(listener: nil)
        _ = try await bob.close(listener: nil)
    }

    func testBadPusherInputIsInvalidArgument() async throws {
        let (client, _, _) = try await loggedInClient("pushbad")
        let good = "http://127.0.0.1:9" + Self.notifyPath
        let cases = [
            pusher("ftp://127.0.0.1" + Self.notifyPath, "k"),
            pusher("not a url", "k"),
            pusher("http://127.0.0.1:9/elsewhere", "k"),
            pusher(good, ""),
            pusher(good, String(repeating: "k", count: 513)),
            pusher(good, "k", appId: ""),
            { var p = pusher(good, "k"); p.defaultPayloadJson = "[1]"; return p }(),
        ]
        let isInvalid: (CoreError) -> Bool = {
            if case .InvalidArgument = $0 { return true }
            return false
        }
        for (i, config) in cases.enumerated() {
            await assertCoreError({ try await client.setPusher(pusher: config) }, "case \(i)", matches: isInvalid)
        }
        await assertCoreError({ try await client.removePusher(pushkey: "") }, "empty pushkey", matches: isInvalid)
        _ = try await client.close(listener: nil)
    }
}

/// The `notification` object of a push gateway request's body.
func pushNotification(_ body: String) -> [String: Any]? {
    let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    return json?["notification"] as? [String: Any]
}

/// A push gateway of the test's own on 127.0.0.1: keeps the body of every
/// request Synapse posts to it and answers each with `{"rejected":[]}`, one
/// request per connection, in turn on one thread. Call `stop()` when done
/// (a `defer`): its thread holds it until then.
final class PushGateway: @unchecked Sendable {
    // @unchecked Sendable, proved: `bodies` and `stopped`, the only stored
    // `var`s, are read and written only between `lock.lock()` and
    // `lock.unlock()`; every other stored property is a `let` of a Sendable
    // type (the listener's descriptor is a plain integer that only the
    // serving thread closes, once).
    /// `http://127.0.0.1:PORT` and the path given, the gateway's URL for a pusher.
    let url: String
    private let listener: Int32
    private let lock = NSLock()
    private var bodies: [String] = []
    private var stopped = false
    /// Signalled when the serving thread has closed the listener.
    private let listenerClosed = DispatchSemaphore(value: 0)

    init(path: String) throws {
        let listening = try listenOnLoopback(backlog: 16, what: "the push gateway's listener")
        listener = listening.fd
        url = "http://127.0.0.1:\(listening.port)\(path)"
        Thread.detachNewThread { [self] in serve() }
    }

    /// The bodies posted so far that name the event `eventId`.
    func posts(of eventId: String) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return bodies.filter { $0.contains("\"\(eventId)\"") }
    }

    /// Closes the listener: returns once it is closed (within 2 s). Idempotent.
    func stop() {
        lock.lock()
        let first = !stopped
        stopped = true
        lock.unlock()
        if first {
            // The serving thread sees `stopped` within one 100 ms poll.
            _ = listenerClosed.wait(timeout: .now() + 2)
        }
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    /// Serves until `stop()`, polling every 100 ms (a blocked `accept` is not
    /// woken by another thread on every platform); then closes the listener.
    private func serve() {
        defer {
            _ = closeDescriptor(listener)
            listenerClosed.signal()
        }
        while !isStopped {
            var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let n = poll(&ready, 1, 100)
            if n < 0 && errno != EINTR {
                return
            }
            guard n > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            noSigPipe(connection)
            if let body = requestBody(connection) {
                lock.lock()
                bodies.append(body)
                lock.unlock()
                answer(connection)
            }
            _ = closeDescriptor(connection)
        }
    }

    /// The body of the HTTP request on `fd`: its `Content-Length` bytes after
    /// the headers (Synapse sends each notification with one). Nil when the
    /// peer stops sending, or sends nothing for 5 s, before it is complete.
    private func requestBody(_ fd: Int32) -> String? {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let headEnd = Data("\r\n\r\n".utf8)
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            if let end = received.range(of: headEnd) {
                let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
                let length = head.split(separator: "\r\n").dropFirst().lazy.compactMap { line -> Int? in
                    let field = line.split(separator: ":", maxSplits: 1)
                    guard field.count == 2, field[0].lowercased() == "content-length" else { return nil }
                    return Int(field[1].trimmingCharacters(in: .whitespaces))
                }.first ?? 0
                if received.count - end.upperBound >= length {
                    return String(decoding: received[end.upperBound..<end.upperBound + length], as: UTF8.self)
                }
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR {
                continue
            }
            guard n > 0 else { return nil }
            received.append(contentsOf: buffer[0..<n])
        }
    }

    /// Answers the request on `fd` with 200 and `{"rejected":[]}`, and says
    /// the connection ends there.
    private func answer(_ fd: Int32) {
        let body = #"{"rejected":[]}"#
        let response = Array(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body).utf8)
        var sent = 0
        while sent < response.count {
            let m = response.withUnsafeBytes { bytes in
                send(fd, bytes.baseAddress! + sent, response.count - sent, sendFlags)
            }
            if m < 0 && errno == EINTR {
                continue
            }
            guard m > 0 else { return }
            sent += m
        }
    }
}
