import Foundation
import XCTest
@testable import MatrixMobileCore

/// A Swift process that exits with live clients (one syncing) exits with its
/// own status: no abort, no panic on a core thread. The child is this test
/// bundle, running only `testChildExitsWithLiveClients` (`childTestProcess`).
///
/// Only where a test can start a process: Linux and macOS. iOS has no
/// Foundation `Process` (an app cannot spawn one), so there both tests skip,
/// saying so, and the simulator's test bundle compiles without the spawning
/// code.
final class ProcessExitTests: XCTestCase {
    private static let childEnv = "MMC_SWIFT_EXIT_CHILD"

    func testAProcessExitingWithLiveClientsExitsWithItsStatus() throws {
        #if os(Linux) || os(macOS)
        let child = try childTestProcess("MatrixMobileCoreTests.ProcessExitTests", "testChildExitsWithLiveClients")
        var env = ProcessInfo.processInfo.environment
        env[Self.childEnv] = "1"
        child.environment = env
        let (stdout, stderr) = try runToEnd(child, timeout: 90)
        XCTAssertEqual(child.terminationReason, .exit, "the child died of a signal:\n\(stderr.suffix(3000))")
        XCTAssertEqual(child.terminationStatus, 7, "the child did not exit with its own status:\n\(stdout.suffix(3000))\n\(stderr.suffix(3000))")
        XCTAssertTrue(stdout.contains("live clients: 2"), "\(stdout.suffix(3000))\n\(stderr.suffix(3000))")
        XCTAssertFalse(stderr.contains("panicked"), stderr.suffix(3000).description)
        #else
        throw XCTSkip("iOS cannot start a child process (no Foundation Process): runs on Linux and macOS")
        #endif
    }

    /// The child's half: skips unless run by the test above, in its child.
    func testChildExitsWithLiveClients() async throws {
        guard ProcessInfo.processInfo.environment[Self.childEnv] == "1" else {
            throw XCTSkip("the child's half of testAProcessExitingWithLiveClientsExitsWithItsStatus, run only in its child process")
        }
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

#if os(Linux) || os(macOS)
/// A process that runs the single test `testClass/method` of this test
/// bundle, its output and environment still to be set by the caller.
///
/// - Linux: the bundle is an executable (`CommandLine.arguments[0]`) that
///   takes the test to run as its argument.
/// - macOS: `swift test` loads the bundle into Xcode's `xctest` tool, which
///   runs one test with `xctest -XCTest Module.Class/method BUNDLE`. The
///   tool is this process's own executable when it is `xctest`, else the one
///   `xcrun` finds.
func childTestProcess(_ testClass: String, _ method: String) throws -> Process {
    let child = Process()
    let filter = "\(testClass)/\(method)"
    #if os(Linux)
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = [filter]
    #else
    let bundle = Bundle(for: ProcessExitTests.self).bundleURL
    guard bundle.pathExtension == "xctest" else {
        throw HarnessError(description: "this test bundle is not an .xctest bundle: \(bundle.path)")
    }
    let me = URL(fileURLWithPath: CommandLine.arguments[0])
    if me.lastPathComponent == "xctest" {
        child.executableURL = me
        child.arguments = ["-XCTest", filter, bundle.path]
    } else {
        child.executableURL = URL(fileURLWithPath: "/usr/bin/xcrun")
        child.arguments = ["xctest", "-XCTest", filter, bundle.path]
    }
    #endif
    return child
}

/// Runs `child` until it exits (terminated after `timeout` seconds, which
/// throws), its output going to files rather than pipes, so that nothing can
/// fill up while it runs; returns its standard output and error.
func runToEnd(_ child: Process, timeout: TimeInterval) throws -> (stdout: String, stderr: String) {
    let logs = try makeTempDir("child")
    defer { try? FileManager.default.removeItem(at: logs) }
    let outURL = logs.appendingPathComponent("out")
    let errURL = logs.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    child.standardOutput = out
    child.standardError = err
    try child.run()
    let deadline = Date().addingTimeInterval(timeout)
    while child.isRunning && Date() < deadline {
        Thread.sleep(forTimeInterval: 0.05)
    }
    if child.isRunning {
        child.terminate()
        child.waitUntilExit()
        throw HarnessError(description: "the child process did not exit within \(Int(timeout)) s")
    }
    child.waitUntilExit()
    try out.close()
    try err.close()
    let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    return (stdout, stderr)
}
#endif

/// Files under `dir` that this process has open, or nil where this platform
/// gives no way to list them (a caller must then fail or skip, never pass).
///
/// - Linux (and Android): the links of `/proc/self/fd`.
/// - Apple: `fcntl(F_GETPATH)` on every descriptor below the process's
///   limit (macOS and iOS have no `/proc`).
func openFiles(under dir: String) -> Int? {
    let root = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path + "/"
    #if os(Linux)
    let fm = FileManager.default
    guard let fds = try? fm.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
    return fds.filter { fd in
        (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"))?.hasPrefix(root) ?? false
    }.count
    #elseif canImport(Darwin)
    // Paths of Apple's temporary directories appear both as /var/... and
    // /private/var/...: compare against both spellings.
    let roots = [root, "/private" + root]
    let limit = min(Int(getdtablesize()), 1 << 16)
    var count = 0
    var buffer = [CChar](repeating: 0, count: Int(MAXPATHLEN) + 1)
    for fd in 0..<Int32(limit) {
        let path: String? = buffer.withUnsafeMutableBufferPointer { chars in
            guard let base = chars.baseAddress, fcntl(fd, F_GETPATH, base) != -1 else { return nil }
            return String(cString: base)
        }
        guard let path else { continue }
        if roots.contains(where: { path.hasPrefix($0) }) {
            count += 1
        }
    }
    return count
    #else
    return nil
    #endif
}
