import Foundation
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import MatrixMobileCore

/// Failures of the test harness itself (not of the core).
struct HarnessError: Error, CustomStringConvertible {
    let description: String
}

/// The homeserver under test, from `MMC_HOMESERVER_URL`. Fails the test,
/// never skips it, when the variable is unset.
func homeserverURL() throws -> String {
    guard let url = ProcessInfo.processInfo.environment["MMC_HOMESERVER_URL"], !url.isEmpty else {
        throw HarnessError(description: "MMC_HOMESERVER_URL is not set; run the tests through `cargo xtask test`")
    }
    return url.hasSuffix("/") ? String(url.dropLast()) : url
}

/// A user registered on the homeserver just now, with a random name.
struct TestUser {
    let username: String
    let password: String
}

/// The second homeserver of `cargo xtask test swift`, whose access tokens
/// expire every `refreshTokenLifetime()` seconds, from
/// `MMC_REFRESH_HOMESERVER_URL`. Fails the test, never skips it, when unset.
func refreshHomeserverURL() throws -> String {
    guard let url = ProcessInfo.processInfo.environment["MMC_REFRESH_HOMESERVER_URL"], !url.isEmpty else {
        throw HarnessError(description: "MMC_REFRESH_HOMESERVER_URL is not set; run the tests through `cargo xtask test swift`")
    }
    return url.hasSuffix("/") ? String(url.dropLast()) : url
}

/// The access-token lifetime of `refreshHomeserverURL()`, in seconds.
func refreshTokenLifetime() -> UInt64 {
    ProcessInfo.processInfo.environment["MMC_REFRESH_TOKEN_LIFETIME_S"].flatMap { UInt64($0) } ?? 5
}

/// Registers a fresh user through the open registration API of the
/// homeserver under test.
func registerUser() async throws -> TestUser {
    try await registerUser(on: try homeserverURL())
}

/// Registers a fresh user through the open registration API of `base`.
func registerUser(on base: String) async throws -> TestUser {
    let user = TestUser(
        username: "swift_" + UUID().uuidString.prefix(12).lowercased(),
        password: "pw-" + UUID().uuidString
    )
    guard let url = URL(string: base + "/_matrix/client/v3/register") else {
        throw HarnessError(description: "bad homeserver URL \(base)")
    }
    var request = URLRequest(url: url)
    request.httpMethod = "POST"
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.httpBody = try JSONSerialization.data(withJSONObject: [
        "username": user.username,
        "password": user.password,
        "inhibit_login": true,
        "auth": ["type": "m.login.dummy"],
    ])
    let (data, response) = try await URLSession.shared.data(for: request)
    let status = (response as? HTTPURLResponse)?.statusCode ?? -1
    guard status == 200 else {
        let body = String(data: data, encoding: .utf8) ?? ""
        throw HarnessError(description: "register \(user.username): HTTP \(status) \(body)")
    }
    return user
}

/// A fresh directory under the system temporary directory.
func makeTempDir(_ label: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("mmc-swift-\(label)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// A config for `dataDir` on the homeserver under test.
func clientConfig(_ dataDir: URL) throws -> ClientConfig {
    ClientConfig(homeserverUrl: try homeserverURL(), dataDir: dataDir.path)
}

/// A `SessionStore` kept in a file, standing in for the Keychain item an app
/// shares with its notification extension: each save writes a temporary
/// file beside it and renames it over the last one, so that a reader never
/// sees half a session; `load` reads it, or gives `nil` while nothing was
/// saved. Saves are serialized (a client's refresh and a test's own save may
/// meet).
final class FileSessionStore: SessionStore, @unchecked Sendable {
    // @unchecked Sendable, proved: every stored property is a `let`; `url` is a value, and the temporary file that `save` writes is touched only while `lock` is held.
    let url: URL
    private let lock = NSLock()

    init(url: URL) {
        self.url = url
    }

    func save(session: Session) throws {
        let fields = [session.userId, session.deviceId, session.accessToken, session.refreshToken ?? "", session.homeserverUrl]
        let tmp = url.appendingPathExtension("tmp")
        try lock.withLock {
            try Data(fields.joined(separator: "\n").utf8).write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        }
    }

    func load() throws -> Session? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let f = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        guard f.count == 5 else { throw HarnessError(description: "\(url.path) holds no session: \(f.count) lines") }
        return Session(userId: f[0], deviceId: f[1], accessToken: f[2], refreshToken: f[3].isEmpty ? nil : f[3], homeserverUrl: f[4])
    }
}

/// A client created in a fresh directory and logged in as a fresh user.
func loggedInClient(_ label: String) async throws -> (Client, Session, URL) {
    let user = try await registerUser()
    let dir = try makeTempDir(label)
    let client = try await Client.create(config: clientConfig(dir))
    let session = try await client.login(username: user.username, password: user.password, deviceName: "swift-\(label)")
    return (client, session, dir)
}

/// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
/// Returns whether it held.
func eventually(timeout: TimeInterval, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try await condition() {
            return true
        }
        if Date() >= deadline {
            return false
        }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
}

/// Runs `body`, expecting it to throw a `CoreError` that `matches` accepts.
func assertCoreError<T>(
    _ body: () async throws -> T,
    _ what: String,
    file: StaticString = #filePath,
    line: UInt = #line,
    matches: (CoreError) -> Bool
) async {
    do {
        _ = try await body()
        XCTFail("\(what): expected a CoreError, got a result", file: file, line: line)
    } catch let error as CoreError {
        XCTAssertTrue(matches(error), "\(what): unexpected \(error)", file: file, line: line)
    } catch {
        XCTFail("\(what): expected a CoreError, got \(error)", file: file, line: line)
    }
}

/// Records lifecycle phases in order; safe to call from any thread.
final class PhaseRecorder: LifecycleListener, @unchecked Sendable {
    // @unchecked Sendable, proved: `recorded` is read and written only between
    // `lock.lock()` and `lock.unlock()`; every other stored property is a
    // `let` of a Sendable type.
    private let lock = NSLock()
    private var recorded: [LifecyclePhase] = []

    func onPhase(phase: LifecyclePhase, elapsedMs: UInt64) {
        lock.lock()
        recorded.append(phase)
        lock.unlock()
    }

    var phases: [LifecyclePhase] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}

/// Closes every client still live, so each test starts from a quiet runtime.
func closeQuietly(_ clients: Client...) async {
    for client in clients where client.state() != .closed {
        _ = try? await client.close(listener: nil)
    }
}

/// A counter shared with tasks and listeners.
final class Counter: @unchecked Sendable {
    // @unchecked Sendable, proved: `count` is read and written only between
    // `lock.lock()` and `lock.unlock()`; every other stored property is a
    // `let` of a Sendable type.
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

/// The core's supervised call tasks named `name` (`...::login`, ...).
func callTasks(_ name: String) -> Int {
    runtimeStats().supervisedTasks.filter { $0.hasSuffix("::\(name)") }.count
}

/// The alive-task count once it stopped moving (a new client's background
/// tasks settle first).
func settledAliveTasks() async -> UInt64 {
    var previous = runtimeStats().aliveTasks
    for _ in 0..<50 {
        try? await Task.sleep(nanoseconds: 50_000_000)
        let current = runtimeStats().aliveTasks
        if current == previous {
            return current
        }
        previous = current
    }
    return previous
}

/// A client of `server` in a fresh directory, with a request bound far beyond
/// any test's wait, so that only cancellation can end its calls.
func blackholedClient(_ server: Blackhole, _ label: String) async throws -> Client {
    let dir = try makeTempDir(label)
    return try await Client.create(config: ClientConfig(
        homeserverUrl: server.url, dataDir: dir.path, storePassphrase: nil, requestTimeoutMs: 600_000))
}

/// Ends the session of `accessToken` on the server (`POST /logout`), behind
/// the client's back, so that its next request gets `M_UNKNOWN_TOKEN`.
func revokeOnServer(accessToken: String) async throws {
    let base = try homeserverURL()
    guard let url = URL(string: base + "/_matrix/client/v3/logout") else {
        throw HarnessError(description: "bad homeserver URL \(base)")
    }
    var request = URLRequest(url: url)
    request.httpMethod = "POST"
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.setValue("Bearer \(accessToken)", forHTTPHeaderField: "Authorization")
    request.httpBody = Data("{}".utf8)
    let (data, response) = try await URLSession.shared.data(for: request)
    let status = (response as? HTTPURLResponse)?.statusCode ?? -1
    guard status == 200 else {
        let body = String(data: data, encoding: .utf8) ?? ""
        throw HarnessError(description: "logout on the server: HTTP \(status) \(body)")
    }
}

/// A `PUT` of `json` to the client-server API at `path` (ids in it escaped
/// with `escaped`) as the user of `accessToken`, behind the client's back (a
/// room's state, a profile); throws unless the server answers 200.
func putOnServer(path: String, accessToken: String, json: [String: String]) async throws {
    let base = try homeserverURL()
    guard let url = URL(string: base + path) else {
        throw HarnessError(description: "bad URL \(base + path)")
    }
    var request = URLRequest(url: url)
    request.httpMethod = "PUT"
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.setValue("Bearer \(accessToken)", forHTTPHeaderField: "Authorization")
    request.httpBody = try JSONSerialization.data(withJSONObject: json)
    let (data, response) = try await URLSession.shared.data(for: request)
    let status = (response as? HTTPURLResponse)?.statusCode ?? -1
    guard status == 200 else {
        let body = String(data: data, encoding: .utf8) ?? ""
        throw HarnessError(description: "PUT \(path): HTTP \(status) \(body)")
    }
}

/// `id` (a room or user id) percent-escaped for a path segment of the
/// client-server API.
func escaped(_ id: String) -> String {
    let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return id.addingPercentEncoding(withAllowedCharacters: unreserved) ?? id
}
