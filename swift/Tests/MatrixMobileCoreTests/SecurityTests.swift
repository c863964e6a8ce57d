import Foundation
import XCTest
@testable import MatrixMobileCore

/// Keeping what matters, through the streams of `Security+Streams.swift`
/// against the real homeserver: an encrypted room's history survives a wiping
/// logout and decrypts on a new device after `recover(key)`; two devices of
/// one user verify each other by emoji; every stream ends at its client's end
/// signal. Every wait is bounded.
final class SecurityTests: XCTestCase {
    /// Well-formed (base58, the right length and parity) but not this account's.
    private static let wrongKey = "EsTj 3yST y93F SLpB jJsz eAXc 2XzA ygD3 w69H fGaN TKBj jXEd"

    private let wipe = LogoutOptions(serverTimeoutMs: 15_000, wipeLocalData: true)

    /// A new device of `user`: its own empty data directory, logged in, syncing.
    private func device(_ user: TestUser, _ name: String) async throws -> Client {
        let client = try await Client.create(config: clientConfig(try makeTempDir("security-\(name)")))
        _ = try await client.login(username: user.username, password: user.password, deviceName: name)
        try await client.startSync()
        return client
    }

    private func bodies(_ client: Client, _ roomId: String) async throws -> [String] {
        try await client.recentMessages(roomId: roomId, limit: 50).map(\.body)
    }

    func testEncryptedHistoryDecryptsOnANewDeviceAfterRecover() async throws {
        let user = try await registerUser()
        let alice = try await device(user, "first")
        let known = await eventually(timeout: 30) { alice.recoveryState() != .unknown }
        XCTAssertTrue(known, "the recovery state stayed unknown")
        let states = Recorded(alice.recoveryStates())
        let first = await eventually(timeout: 10) { states.count > 0 }
        XCTAssertTrue(first, "recoveryStates() yielded nothing")
        XCTAssertEqual(states.all.first, .disabled, "the current state first")

        let roomId = try await alice.createRoom(name: "vault", invite: [], encrypted: true)
        let encrypted = await eventually(timeout: 30) { (try? alice.room(roomId: roomId).isEncrypted) == true }
        XCTAssertTrue(encrypted, "the room never showed as encrypted")
        let secrets = (0..<5).map { "secret history \($0)" }
        for body in secrets {
            _ = try await alice.sendText(roomId: roomId, body: body)
        }

        let key = try await alice.enableRecovery(passphrase: nil)
        XCTAssertFalse(key.isEmpty)
        XCTAssertEqual(key, key.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(alice.recoveryState(), .enabled)
        let enabled = await eventually(timeout: 10) { states.all.last == .enabled }
        XCTAssertTrue(enabled, "the stream never yielded .enabled: \(states.all)")

        let report = try await alice.logout(options: wipe, listener: nil)
        XCTAssertEqual(report.keysBackedUp, true, "every room key in the backup")
        XCTAssertTrue(report.dataWiped)
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
        let ended = await eventually(timeout: 15) { states.finished }
        XCTAssertTrue(ended, "recoveryStates() did not finish at logout")

        // A new device: the room is there, its history does not decrypt without the key.
        let again = try await device(user, "second")
        let hasRoom = await eventually(timeout: 30) {
            ((try? again.rooms()) ?? []).contains { $0.roomId == roomId }
        }
        XCTAssertTrue(hasRoom, "the room never reached the new device")
        let before = try await bodies(again, roomId)
        XCTAssertTrue(Set(before).isDisjoint(with: secrets), "decrypted without the key: \(before)")

        await assertCoreError({ try await again.recover(recoveryKey: Self.wrongKey) }, "a wrong key") {
            if case .InvalidArgument = $0 { return true }
            return false
        }
        XCTAssertNotEqual(again.recoveryState(), .enabled, "a wrong key enabled recovery")

        let againStates = Recorded(again.recoveryStates())
        try await again.recover(recoveryKey: key)
        let recovered = await eventually(timeout: 30) { againStates.all.contains(.enabled) }
        XCTAssertTrue(recovered, "the new device's stream never yielded .enabled: \(againStates.all)")
        var after: [String] = []
        let decrypted = await eventually(timeout: 60) {
            after = (try? await self.bodies(again, roomId)) ?? []
            return Set(secrets).isSubset(of: after)
        }
        XCTAssertTrue(decrypted, "the history never decrypted: \(after)")
        XCTAssertEqual(after.filter { secrets.contains($0) }, secrets, "the history in order")

        let last = try await again.logout(options: wipe, listener: nil)
        XCTAssertEqual(last.storeFilesOpenAfter, 0)
        let againEnded = await eventually(timeout: 15) { againStates.finished }
        XCTAssertTrue(againEnded, "the new device's stream did not finish at logout")
        // A stream on the ended client finishes at once, empty.
        var late: [RecoveryState] = []
        for await state in again.recoveryStates() {
            late.append(state)
        }
        XCTAssertEqual(late, [])
    }

    /// Two devices of one user, both syncing; A is cross-signed, B is not yet.
    private func pair() async throws -> (Client, Client) {
        let user = try await registerUser()
        let a = try await device(user, "A")
        try await a.bootstrapCrossSigning(password: user.password)
        let crossSigned = await eventually(timeout: 30) { a.isVerified() }
        XCTAssertTrue(crossSigned, "A was never cross-signed")
        return (a, try await device(user, "B"))
    }

    private static func emojis(_ states: [VerificationState]) -> [Emoji]? {
        for state in states {
            if case .emojis(let emojis) = state {
                return emojis
            }
        }
        return nil
    }

    func testTwoDevicesVerifyEachOtherByEmojiThroughTheStreams() async throws {
        let (a, b) = try await pair()
        XCTAssertFalse(b.isVerified(), "a new device starts unverified")
        let requestsOnA = Recorded(a.verificationRequests())
        // A: answers the first request, acting on each state of it.
        let onA = Task { () throws -> ([VerificationState], Verification?) in
            for await verification in a.verificationRequests() {
                var seen: [VerificationState] = []
                for await state in verification.states() {
                    seen.append(state)
                    switch state {
                    case .requested: try? await verification.accept()
                    case .ready: try? await verification.startSas()
                    case .emojis: try? await verification.confirm()
                    case .done, .cancelled: break
                    }
                }
                return (seen, verification)
            }
            return ([], nil)
        }
        try await Task.sleep(nanoseconds: 500_000_000) // A's streams are registered before B asks
        // B: asks, and confirms the emojis.
        let onB = Task { () throws -> ([VerificationState], Verification) in
            let verification = try await b.requestVerification()
            var seen: [VerificationState] = []
            for await state in verification.states() {
                seen.append(state)
                if case .emojis = state {
                    try? await verification.confirm()
                }
            }
            return (seen, verification)
        }
        guard let resultA = try await value(of: onA, within: 90),
              let resultB = try await value(of: onB, within: 90)
        else {
            onA.cancel()
            onB.cancel()
            await closeQuietly(a, b)
            return XCTFail("the verification did not finish on both devices within 90 s")
        }
        let (seenA, verificationA) = resultA
        let seenB = resultB.0
        for (who, seen) in [("A", seenA), ("B", seenB)] {
            guard case .requested = seen.first else { return XCTFail("\(who)'s first state: \(seen)") }
            guard case .done = seen.last else { return XCTFail("\(who)'s last state: \(seen)") }
        }
        let emojis = try XCTUnwrap(Self.emojis(seenA), "A saw no emojis: \(seenA)")
        XCTAssertEqual(emojis.count, 7, "seven emojis: \(emojis)")
        XCTAssertEqual(Self.emojis(seenB), emojis, "both devices show the same seven emojis")
        let verified = await eventually(timeout: 60) { b.isVerified() }
        XCTAssertTrue(verified, "B was never cross-signed")
        XCTAssertEqual(requestsOnA.count, 1, "A got one request")

        for client in [a, b] {
            let report = try await client.close(listener: nil)
            XCTAssertEqual(report.storeFilesOpenAfter, 0)
        }
        let ended = await eventually(timeout: 15) { requestsOnA.finished }
        XCTAssertTrue(ended, "verificationRequests() did not finish at close")
        // On the ended client: the streams finish at once, empty; calls fail.
        var late = 0
        for await _ in a.verificationRequests() {
            late += 1
        }
        if let verificationA {
            for await _ in verificationA.states() {
                late += 1
            }
            await assertCoreError({ try await verificationA.confirm() }, "confirm after close") {
                if case .ClientClosed = $0 { return true }
                return false
            }
        }
        XCTAssertEqual(late, 0, "the streams of an ended client yielded")
    }

    func testACancelOnOneSideEndsTheStatesStreamOnTheOther() async throws {
        let (a, b) = try await pair()
        let requestsOnA = Recorded(a.verificationRequests())
        try await Task.sleep(nanoseconds: 500_000_000) // A's stream is registered before B asks
        let onB = try await b.requestVerification()
        let statesOnB = Recorded(onB.states())
        let requested = await eventually(timeout: 60) { requestsOnA.count > 0 }
        XCTAssertTrue(requested, "A never got the request")
        if let onA = requestsOnA.all.first {
            try await onA.cancel()
        }
        let ended = await eventually(timeout: 30) { statesOnB.finished }
        XCTAssertTrue(ended, "B's states() did not finish after A's cancel: \(statesOnB.all)")
        if case .requested = statesOnB.all.first {} else { XCTFail("B's states: \(statesOnB.all)") }
        if case .cancelled = statesOnB.all.last {} else { XCTFail("B's states: \(statesOnB.all)") }
        XCTAssertFalse(b.isVerified())
        for client in [a, b] {
            let report = try await client.close(listener: nil)
            XCTAssertEqual(report.storeFilesOpenAfter, 0)
        }
    }

    func testTheSessionStreamReportsATokenTheServerRevokedAndEndsAtClose() async throws {
        let (client, session, _) = try await loggedInClient("session")
        let events = Recorded(client.sessionEvents())
        try await client.startSync()
        try await client.waitForSyncState(.running, timeout: 30)
        // The current session comes first; the test server's tokens outlive the
        // test: no refresh, nothing else yet.
        let current = await eventually(timeout: 10) { !events.all.isEmpty }
        XCTAssertTrue(current, "the current session did not come first")
        XCTAssertEqual(events.all, [.refreshed(session)], "events before the revocation")

        try await revokeOnServer(accessToken: session.accessToken)
        let refused = await eventually(timeout: 60) {
            events.all.contains { if case .authError = $0 { true } else { false } }
        }
        XCTAssertTrue(refused, "no auth error after the token was revoked: \(events.all)")

        _ = try await client.close(listener: nil)
        let ended = await eventually(timeout: 15) { events.finished }
        XCTAssertTrue(ended, "sessionEvents() did not finish at close")
        // A refresh may race the revocation and succeed once (the server drops
        // the refresh token a moment after the access token), so a `refreshed`
        // may come first; then the error, once however many requests were
        // refused, a hard logout, and nothing after it.
        let seen = events.all
        let firstError = seen.firstIndex { if case .authError = $0 { true } else { false } }
        XCTAssertNotNil(firstError, "events: \(seen)")
        if let firstError {
            XCTAssertTrue(
                seen[..<firstError].allSatisfy { if case .refreshed = $0 { true } else { false } },
                "events: \(seen)"
            )
            XCTAssertEqual(
                Array(seen[firstError...]), [.authError(softLogout: false)],
                "a revoked token is one hard logout: \(seen)"
            )
        }
        XCTAssertFalse(
            SessionEvent.refreshed(session).description.contains(session.accessToken),
            "the description shows the token"
        )
    }

    /// The task's value, or `nil` when it takes longer than `seconds`.
    private func value<T: Sendable>(of task: Task<T, Error>, within seconds: UInt64) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await task.value }
            group.addTask {
                try await Task.sleep(nanoseconds: seconds * 1_000_000_000)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}

/// Everything a stream yielded, and whether it finished; read from any task.
final class Recorded<Element: Sendable>: @unchecked Sendable {
    // @unchecked Sendable, proved: `values` and `ended`, the only stored
    // `var`s, are read and written only between `lock.lock()` and
    // `lock.unlock()`; `lock` is a `let` of a Sendable type.
    private let lock = NSLock()
    private var values: [Element] = []
    private var ended = false

    init(_ stream: AsyncStream<Element>) {
        Task { [self] in
            for await value in stream {
                record(value)
            }
            markEnded()
        }
    }

    private func record(_ value: Element) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }

    private func markEnded() {
        lock.lock()
        ended = true
        lock.unlock()
    }

    var all: [Element] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }

    var count: Int { all.count }

    var finished: Bool {
        lock.lock()
        defer { lock.unlock() }
        return ended
    }
}
