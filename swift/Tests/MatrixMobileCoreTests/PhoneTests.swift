import Foundation
import XCTest
@testable import MatrixMobileCore

/// Built for a phone: the main actor is the app's thread, and no call of the
/// core holds it, whatever the size of the file or the account. The Swift
/// side of core/tests/phone.rs and python/tests/test_phone.py.
///
/// The calls are made from the main actor, and a ticker task on the main
/// actor sleeps 5 ms in a loop and records the longest gap between its
/// wake-ups; a call that read, encrypted or decrypted a file on the calling
/// thread made gaps of seconds with a 40 MiB file. The bound (250 ms) is far
/// above what the fixed core shows and far below that. (The generated async
/// functions are nonisolated, so Swift runs their polls on the global
/// executor rather than the main actor; `rooms()` is synchronous and runs on
/// the main actor itself.)
final class PhoneTests: XCTestCase {
    func testALargeEncryptedFileAndTheRoomListNeverHoldTheMainActor() async throws {
        let (client, _, _) = try await loggedInClient("phone")
        let work = try makeTempDir("phone-work")
        defer { try? FileManager.default.removeItem(at: work) }
        do {
            let roomId = try await client.createRoom(name: "files", invite: [], encrypted: true)
            // A large account: ~20 rooms besides the encrypted one.
            for i in 0..<20 {
                _ = try await client.createRoom(name: "room \(i)", invite: [], encrypted: false)
            }
            try await client.startSync()
            let timeline = try await client.timeline(roomId: roomId)
            let items = Snapshots(timeline.items())

            // (1) A 40 MiB file into the encrypted room.
            let size = 40 * mib
            let file = work.appendingPathComponent("video.bin")
            try writeRandomFile(file, size: size)
            let upload = try await onMainActor(timeout: 180) {
                try await longestMainActorHold {
                    try await timeline.sendFile(
                        path: file.path, mimetype: "application/octet-stream", caption: nil, progress: nil)
                }.1
            }
            print("PhoneTests: sendFile of \(size / mib) MiB, longest gap of the main actor \(upload) ms")
            XCTAssertLessThan(upload, holdBoundMs, "sendFile held the main actor \(upload) ms")

            // (2) Its download, streamed to disk.
            var found: (source: MediaSource, size: UInt64?)?
            let arrived = await eventually(timeout: 30) {
                found = firstMedia(items.latest)
                return found != nil
            }
            XCTAssertTrue(arrived, "the file never showed in the timeline: \(events(items.latest))")
            let media = try XCTUnwrap(found)
            XCTAssertTrue(media.source.encrypted, "a file in an encrypted room is encrypted")
            XCTAssertEqual(media.size, UInt64(size), "the size travels with the file")
            let dest = work.appendingPathComponent("downloaded.bin")
            let (got, download) = try await onMainActor(timeout: 180) {
                try await longestMainActorHold {
                    try await client.downloadMedia(source: media.source, destPath: dest.path)
                }
            }
            print("PhoneTests: downloadMedia of \(size / mib) MiB, longest gap of the main actor \(download) ms")
            XCTAssertEqual(got, UInt64(size))
            XCTAssertTrue(try Data(contentsOf: dest) == Data(contentsOf: file), "the download differs from the file sent")
            XCTAssertLessThan(download, holdBoundMs, "downloadMedia held the main actor \(download) ms")

            // (3) The room list of the account, 50 times, yielding between calls.
            let (rooms, listing) = try await onMainActor(timeout: 60) {
                try await longestMainActorHold { () async throws -> Int in
                    var rooms: [RoomSummary] = []
                    for _ in 0..<50 {
                        rooms = try client.rooms()
                        await Task.yield()
                    }
                    return rooms.count
                }
            }
            print("PhoneTests: 50 rooms() of \(rooms) rooms, longest gap of the main actor \(listing) ms")
            XCTAssertGreaterThanOrEqual(rooms, 21)
            XCTAssertLessThan(listing, holdBoundMs, "rooms() held the main actor \(listing) ms")

            // A file over the server's upload limit is refused before it is
            // read: a sparse file of the limit plus one byte.
            let limit = try await client.maxUploadSize()
            XCTAssertGreaterThan(limit, 0, "the server's upload limit")
            let tooLarge = work.appendingPathComponent("too-large.bin")
            XCTAssertTrue(FileManager.default.createFile(atPath: tooLarge.path, contents: nil))
            let handle = try FileHandle(forWritingTo: tooLarge)
            try handle.truncate(atOffset: limit + 1)
            try handle.close()
            await assertCoreError({
                try await timeline.sendFile(path: tooLarge.path, mimetype: nil, caption: nil, progress: nil)
            }, "a file of the limit plus one byte") {
                if case let .InvalidArgument(detail) = $0 { return detail.contains(String(limit)) }
                return false
            }

            let report = try await client.logout(options: LogoutOptions(), listener: nil)
            print("PhoneTests logout: storeFilesOpenAfter=\(String(describing: report.storeFilesOpenAfter))")
            XCTAssertEqual(report.storeFilesOpenAfter, 0)
        } catch {
            await closeQuietly(client)
            throw error
        }
    }
}

private let mib = 1024 * 1024
private let holdBoundMs = 250.0

/// The source and size of the first media item of `items`.
private func firstMedia(_ items: [TimelineItem]) -> (source: MediaSource, size: UInt64?)? {
    for item in items {
        if case let .event(_, _, _, _, _, _, content, _, _, _, _, _, _, _) = item.kind,
           case let .media(_, _, source, _, size, _) = content {
            return (source, size)
        }
    }
    return nil
}

/// A file of `size` bytes that does not compress to nothing, written 1 MiB
/// at a time.
private func writeRandomFile(_ file: URL, size: Int) throws {
    guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
        throw HarnessError(description: "could not create \(file.path)")
    }
    let handle = try FileHandle(forWritingTo: file)
    defer { try? handle.close() }
    var x = UInt64.random(in: 1...UInt64.max)
    var chunk = [UInt64](repeating: 0, count: mib / 8)
    var left = size
    while left > 0 {
        for i in chunk.indices {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            chunk[i] = x
        }
        let n = min(left, mib)
        try handle.write(contentsOf: chunk.withUnsafeBytes { Data($0.prefix(n)) })
        left -= n
    }
}

/// Runs `body` on the main actor in a task of its own and returns its result.
/// Fails, rather than hangs, when the main actor has not finished it within
/// `timeout` seconds (a platform whose main actor never runs).
private func onMainActor<T: Sendable>(
    timeout: TimeInterval, _ body: @escaping @MainActor @Sendable () async throws -> T
) async throws -> T {
    let done = Counter()
    let task = Task { @MainActor () throws -> T in
        defer { done.increment() }
        return try await body()
    }
    guard await eventually(timeout: timeout, { done.value > 0 }) else {
        task.cancel()
        throw HarnessError(description: "the main actor did not finish its work within \(timeout) s")
    }
    return try await task.value
}

/// Runs `body` on the main actor with a `MainActorTicker` beside it, and
/// returns its result with the longest gap (ms) the ticker saw. The ticker
/// runs 20 ms before `body` and 20 ms after it, so that a hold at the very
/// start or end of the call is counted too.
@MainActor
private func longestMainActorHold<T>(_ body: @MainActor () async throws -> T) async throws -> (T, Double) {
    let ticker = MainActorTicker()
    defer { ticker.stop() }
    try await Task.sleep(nanoseconds: 20_000_000)
    let result = try await body()
    try await Task.sleep(nanoseconds: 20_000_000)
    return (result, ticker.longestMs)
}

/// A task on the main actor that wakes every 5 ms and records the longest gap
/// between its wake-ups: the longest the main actor was held by anything else.
@MainActor
private final class MainActorTicker {
    private(set) var longestMs = 0.0
    private var task: Task<Void, Never>?

    init() {
        task = Task { @MainActor in
            var last = DispatchTime.now().uptimeNanoseconds
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 5_000_000)
                let now = DispatchTime.now().uptimeNanoseconds
                self.longestMs = max(self.longestMs, Double(now - last) / 1e6)
                last = now
            }
        }
    }

    func stop() {
        task?.cancel()
    }
}
