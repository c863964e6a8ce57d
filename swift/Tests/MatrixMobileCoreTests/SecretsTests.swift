import XCTest

@testable import MatrixMobileCore

/// No secret reaches the text of a record: `description`, `debugDescription`
/// and the mirror `dump` walks, of `Session`, `ClientConfig` and
/// `PusherConfig`, show who and where, never the tokens, the store passphrase
/// or the pushkey (an app that logs a session leaks nothing).
final class SecretsTests: XCTestCase {
    let access = "syt_access_token_secret_0123"
    let refresh = "syr_refresh_token_secret_4567"
    let passphrase = "store passphrase secret 89"
    let pushkey = "fcm-registration-token-secret-abcdef"

    private func assertShowsNoSecret<T>(_ record: T, _ shown: String, file: StaticString = #filePath, line: UInt = #line) {
        var dumped = ""
        dump(record, to: &dumped)
        for text in [String(describing: record), String(reflecting: record), "\(record)", "\([record])", dumped] {
            let leaked = [access, refresh, passphrase, pushkey].filter { text.contains($0) }
            XCTAssertEqual(leaked, [], "\(T.self) printed \(leaked): \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(shown), "\(T.self) printed nothing useful: \(text)", file: file, line: line)
        }
    }

    func testRecordsPrintNoSecret() {
        assertShowsNoSecret(
            Session(
                userId: "@alice:localhost", deviceId: "ALICEDEVICE", accessToken: access,
                refreshToken: refresh, homeserverUrl: "https://matrix.example.org"),
            "@alice:localhost")
        assertShowsNoSecret(
            ClientConfig(
                homeserverUrl: "https://matrix.example.org", dataDir: "/data/alice",
                storePassphrase: passphrase),
            "/data/alice")
        assertShowsNoSecret(
            PusherConfig(
                appId: "org.example.chat", pushkey: pushkey,
                gatewayUrl: "https://push.example.org/_matrix/push/v1/notify", deviceName: "Pixel",
                lang: "en"),
            "org.example.chat")
    }
}
