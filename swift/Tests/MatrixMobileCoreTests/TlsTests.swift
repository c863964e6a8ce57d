import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import MatrixMobileCore

/// HTTPS with a private CA, from Swift: the side of core/tests/tls.rs and
/// python/tests/test_tls.py. A client that does not trust the run's CA fails
/// `login` with `Network` naming the refused certificate and stays
/// `created`; the same config with the CA's PEM in
/// `additionalRootCertificates` logs in.
///
/// On Linux the core's platform roots are the system store, which
/// `SSL_CERT_FILE` replaces when a client is created. `cargo xtask test
/// swift` bind-mounts the run's CA into the root's system store, so each
/// client here is created while `SSL_CERT_FILE` is `unrelated-ca.pem` (a CA
/// that signs nothing, from `MMC_TLS_DIR`): the CA in the config is then the
/// only way to trust the homeserver. Apple platforms verify with their
/// keychain, which no variable replaces, and their CI's homeserver speaks
/// plain HTTP: the test is skipped there.
final class TlsTests: XCTestCase {
    /// `MMC_TLS_DIR`, the run's CA and its test certificates.
    private func tlsDir() throws -> URL {
        guard let dir = ProcessInfo.processInfo.environment["MMC_TLS_DIR"], !dir.isEmpty else {
            throw HarnessError(description: "MMC_TLS_DIR is not set; run the tests through `cargo xtask test swift`")
        }
        return URL(fileURLWithPath: dir, isDirectory: true)
    }

    #if os(Linux)
    /// Creates a client of `config` while `SSL_CERT_FILE` is
    /// `unrelated-ca.pem`, then puts the variable back (the core reads it
    /// only while it creates a client).
    private func createUntrusting(_ config: ClientConfig) async throws -> Client {
        let previous = getenv("SSL_CERT_FILE").map { String(cString: $0) }
        let unrelated = try tlsDir().appendingPathComponent("unrelated-ca.pem").path
        guard setenv("SSL_CERT_FILE", unrelated, 1) == 0 else {
            throw HarnessError(description: "setenv failed: errno \(errno)")
        }
        defer {
            if let previous {
                setenv("SSL_CERT_FILE", previous, 1)
            } else {
                unsetenv("SSL_CERT_FILE")
            }
        }
        return try await Client.create(config: config)
    }
    #endif

    func testWithoutTheCaLoginIsANetworkErrorNamingTheCertificateAndWithItInTheConfigItLogsIn() async throws {
        #if os(Linux)
        let user = try await registerUser()
        let dir = try makeTempDir("tls")
        defer { try? FileManager.default.removeItem(at: dir) }
        let untrusting = ClientConfig(
            homeserverUrl: try homeserverURL(), dataDir: dir.path, additionalRootCertificates: [])

        let refused = try await createUntrusting(untrusting)
        for attempt in 1...2 {
            do {
                _ = try await refused.login(username: user.username, password: user.password, deviceName: "swift-tls")
                XCTFail("attempt \(attempt): logged in without trusting the CA")
            } catch CoreError.Network(let detail) {
                XCTAssertTrue(detail.contains("TLS certificate") && detail.contains("UnknownIssuer"),
                              "attempt \(attempt): the detail names the refused certificate: \(detail)")
                XCTAssertFalse(detail.contains(user.password), "the password is in the error")
            }
            XCTAssertEqual(refused.state(), .created, "attempt \(attempt): the client stays created")
        }
        _ = try await refused.close(listener: nil)

        var trusting = untrusting
        trusting.additionalRootCertificates = [
            try String(contentsOf: try tlsDir().appendingPathComponent("ca.pem"), encoding: .utf8),
        ]
        let client = try await createUntrusting(trusting)
        let session = try await client.login(username: user.username, password: user.password, deviceName: "swift-tls")
        XCTAssertTrue(session.homeserverUrl.hasPrefix("https://"), "over HTTPS: \(session.homeserverUrl)")
        XCTAssertEqual(client.state(), .loggedIn)
        let report = try await client.logout(options: LogoutOptions(), listener: nil)
        XCTAssertEqual(report.serverLogout, .revoked, "the logout reached the server: \(report)")
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
        #else
        throw XCTSkip("the platform's roots are replaced through SSL_CERT_FILE on Linux only")
        #endif
    }
}
