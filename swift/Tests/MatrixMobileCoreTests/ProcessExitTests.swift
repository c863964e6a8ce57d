import Foundation
import XCTest
@testable import MatrixMobileCore

/// A Swift process that exits with live clients (one syncing) exits with its
/// own status: no abort, no panic on a core thread. The child is this test
/// binary, running only `testChildExitsWithLiveClients`.
final class ProcessExitTests: XCTestCase {
    private static let childEnv = "MMC_SWIFT_EXIT_CHILD"

    func testAProcessExitingWithLiveClientsExitsWithItsStatus() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["MatrixMobileCoreTests.ProcessExitTests/testChildExitsWithLiveClients"]
        var env = ProcessInfo.processInfo.environment
        env[Self.childEnv] = "1"
        child.environment = env
        let err = Pipe()
        let out = Pipe()
        child.standardError = err
        child.standardOutput = out
        try child.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .exit, "the child died of a signal:\n\(stderr.suffix(3000))")
        XCTAssertEqual(child.terminationStatus, 7, "the child did not exit with its own status:\n\(stdout.suffix(3000))")
        XCTAssertTrue(stdout.contains("live clients: 2"), stdout.suffix(3000).description)
        XCTAssertFalse(stderr.contains("panicked"), stderr.suffix(3000).description)
    }

    /// The child's half: does nothing unless run by the test above.
    func testChildExitsWithLiveClients() async throws {
        guard ProcessInfo.processInfo.environment[Self.childEnv] == "1" else { return }
        let (client, _, _) = try await loggedInClient("exit-child")
        try await client.startSync()
        try await client.waitForSyncState(.running, timeout: 30)
        let other = try await Client.create(config: clientConfig(try makeTempDir("exit-other")))
        print("live clients: \(runtimeStats().liveClients)")
        // Every C stream: Glibc's `stdout` is a mutable global, which Swift 6
        // refuses to reference from an async context.
        fflush(nil)
        withExtendedLifetime((client, other)) { exit(7) }
    }
}
