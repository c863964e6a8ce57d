import Foundation
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import MatrixMobileCore

/// HTTP pushers from Swift against Synapse: `setPusher` registers this
/// device's pusher with the server (read back from `GET /pushers`),
/// `removePusher` removes it, and bad input is `InvalidArgument`. The
/// delivery itself (Synapse posting to a gateway) is tested in Rust, Python
/// and Kotlin, whose tests run a gateway of their own.
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
