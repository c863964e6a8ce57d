import Foundation
import XCTest
@testable import MatrixMobileCore

/// Bad input and misuse surface as `CoreError` cases, never as a crash.
final class ErrorTests: XCTestCase {
    func testMalformedHomeserverURLIsInvalidArgument() async throws {
        let config = ClientConfig(homeserverUrl: "not a url ::", dataDir: try makeTempDir("badurl").path)
        await assertCoreError({ try await Client.create(config: config) }, "create with a malformed URL") {
            if case .InvalidArgument = $0 { return true }
            return false
        }
    }

    func testCallsOnAClosedClientThrowClientClosed() async throws {
        let (client, _, _) = try await loggedInClient("closed")
        _ = try await client.close(listener: nil)
        XCTAssertEqual(client.state(), .closed)

        let isClosed: (CoreError) -> Bool = {
            if case .ClientClosed = $0 { return true }
            return false
        }
        await assertCoreError({ try await client.startSync() }, "startSync", matches: isClosed)
        await assertCoreError({ try await client.createRoom(name: "x", invite: [], encrypted: false) }, "createRoom", matches: isClosed)
        await assertCoreError({ try await client.sendText(roomId: "!a:localhost", body: "x") }, "sendText", matches: isClosed)
        await assertCoreError({ try client.rooms() }, "rooms", matches: isClosed)
        await assertCoreError({ try client.observeMessages(listener: IgnoringMessageListener()) }, "observeMessages", matches: isClosed)
        await assertCoreError({ try client.observeSyncState(listener: IgnoringSyncStateListener()) }, "observeSyncState", matches: isClosed)
        await assertCoreError({ try await client.close(listener: nil) }, "second close", matches: isClosed)
    }

    func testWrongPasswordIsAnAuthOrServerError() async throws {
        let user = try await registerUser()
        let client = try await Client.create(config: clientConfig(try makeTempDir("wrongpw")))
        await assertCoreError({
            try await client.login(username: user.username, password: "wrong", deviceName: nil)
        }, "login with a wrong password") {
            switch $0 {
            case .Auth: return true
            case let .Server(status, errcode, _): return status == 403 && errcode == "M_FORBIDDEN"
            default: return false
            }
        }
        XCTAssertEqual(client.state(), .created, "a failed login must leave the client usable")
        _ = try await client.close(listener: nil)
    }

    func testSendingToAnUnknownRoomIsAnError() async throws {
        let (client, _, _) = try await loggedInClient("unknownroom")
        await assertCoreError({ try await client.sendText(roomId: "!nope:localhost", body: "x") }, "unknown room") {
            switch $0 {
            case .NotFound, .InvalidArgument: return true
            default: return false
            }
        }
        _ = try await client.logout(options: LogoutOptions(), listener: nil)
    }

    func testUnreachableServerLoginIsANetworkError() async throws {
        // Port 9 (discard) on loopback: nothing listens, so connecting fails
        // fast. Creating the client does not contact the server.
        let config = ClientConfig(homeserverUrl: "http://127.0.0.1:9", dataDir: try makeTempDir("unreach").path)
        let client = try await Client.create(config: config)
        await assertCoreError({ try await client.login(username: "u", password: "p", deviceName: nil) }, "login") {
            if case .Network = $0 { return true }
            return false
        }
        XCTAssertEqual(client.state(), .created)
        _ = try await client.close(listener: nil)
    }

    func testDataDirUnderARegularFileIsAStorageError() async throws {
        let file = try makeTempDir("notadir").appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        let config = ClientConfig(homeserverUrl: try homeserverURL(), dataDir: file.appendingPathComponent("store").path)
        await assertCoreError({ try await Client.create(config: config) }, "create under a regular file") {
            if case .Storage = $0 { return true }
            return false
        }
    }
}
