import Foundation
import XCTest
@testable import MatrixMobileCore

/// `apply(_:to:)` and the observable models, without a server.
final class DiffTests: XCTestCase {
    func testApplyTimelineDiffsKeepsTheListInStep() {
        let (a, b, c, d) = (item("a"), item("b"), item("c"), item("d"))
        var list = apply([.reset(values: [a, b])], to: [item("stale")])
        XCTAssertEqual(ids(list), ["a", "b"])
        list = apply([.pushBack(value: c), .pushFront(value: d)], to: list)
        XCTAssertEqual(ids(list), ["d", "a", "b", "c"])
        list = apply([.insert(index: 1, value: item("x")), .set(index: 0, value: item("y"))], to: list)
        XCTAssertEqual(ids(list), ["y", "x", "a", "b", "c"])
        list = apply([.remove(index: 1), .popFront, .popBack], to: list)
        XCTAssertEqual(ids(list), ["a", "b"])
        list = apply([.append(values: [c, d]), .truncate(length: 3)], to: list)
        XCTAssertEqual(ids(list), ["a", "b", "c"])
        list = apply([.clear, .append(values: [d])], to: list)
        XCTAssertEqual(ids(list), ["d"])
        // The input is not changed: the function is pure.
        let before = [a, b]
        _ = apply([.clear], to: before)
        XCTAssertEqual(ids(before), ["a", "b"])
        // A `set` replaces the value under the same position.
        let edited = TimelineItem(itemId: "a", kind: .readMarker)
        XCTAssertEqual(apply([.set(index: 0, value: edited)], to: before).first?.kind, .readMarker)
    }

    func testApplyRoomListDiffsKeepsTheListInStep() {
        var rooms = apply([.reset(values: [room("!1"), room("!2")])], to: [])
        rooms = apply([.pushFront(value: room("!3")), .remove(index: 2)], to: rooms)
        XCTAssertEqual(rooms.map(\.roomId), ["!3", "!1"])
        rooms = apply([.set(index: 1, value: room("!1", membership: .invited)), .insert(index: 1, value: room("!4"))], to: rooms)
        XCTAssertEqual(rooms.map(\.roomId), ["!3", "!4", "!1"])
        XCTAssertEqual(rooms.last?.membership, .invited)
        rooms = apply([.popBack, .append(values: [room("!5")]), .popFront], to: rooms)
        XCTAssertEqual(rooms.map(\.roomId), ["!4", "!5"])
        rooms = apply([.truncate(length: 1)], to: rooms)
        XCTAssertEqual(rooms.map(\.roomId), ["!4"])
        rooms = apply([.clear], to: rooms)
        XCTAssertEqual(rooms, [])
    }

    func testApplyDoesNotTrapOnDiffsOutOfStep() {
        let list = [item("a")]
        XCTAssertEqual(ids(apply([.insert(index: 5, value: item("b"))], to: list)), ["a", "b"])
        XCTAssertEqual(ids(apply([.set(index: 5, value: item("b"))], to: list)), ["a"])
        XCTAssertEqual(ids(apply([.remove(index: 1)], to: list)), ["a"])
        XCTAssertEqual(ids(apply([.truncate(length: 9)], to: list)), ["a"])
        XCTAssertEqual(ids(apply([.popFront, .popFront, .popBack], to: list)), [])
        // The next reset brings it back in step.
        XCTAssertEqual(ids(apply([.remove(index: 7), .reset(values: [item("z")])], to: list)), ["z"])
    }

    /// The models apply every batch on the main actor and see the end of
    /// their stream. The main-actor work runs in its own task, so that a
    /// platform whose main actor never runs fails here instead of hanging.
    /// Skipped on Linux, where the models are not built (see ChatModels.swift).
    func testModelsApplyEveryBatchOnTheMainActorAndFinish() async throws {
        #if !canImport(Observation) || os(Linux)
        throw XCTSkip("the Observable models are built on Apple platforms only")
        #else
        guard #available(iOS 17.0, macOS 14.0, tvOS 17.0, watchOS 10.0, *) else {
            throw XCTSkip("Observation needs iOS 17 / macOS 14")
        }
        let done = Counter()
        let work = Task { @MainActor () -> [String] in
            defer { done.increment() }
            var problems: [String] = []
            let (updates, continuation) = AsyncStream<[TimelineUpdate]>.makeStream()
            let model = TimelineModel(timeline: nil, updates: updates)
            continuation.yield([.reset(values: [item("a")])])
            continuation.yield([.pushBack(value: item("b")), .pushFront(value: item("c"))])
            continuation.yield([.remove(index: 1)])
            if await !onMain(within: 5, { ids(model.items) == ["c", "b"] }) {
                problems.append("the timeline model holds \(ids(model.items))")
            }
            if model.isFinished { problems.append("finished before its stream ended") }
            continuation.finish()
            if await !onMain(within: 5, { model.isFinished }) {
                problems.append("the timeline model did not see the end of its stream")
            }
            if ids(model.items) != ["c", "b"] { problems.append("the last items did not stay: \(ids(model.items))") }

            let (roomUpdates, roomContinuation) = AsyncStream<[RoomListUpdate]>.makeStream()
            let control = RoomListControl()
            let rooms = RoomListModel(filter: .all, control: control, updates: roomUpdates)
            roomContinuation.yield([.reset(values: [room("!1"), room("!2")]), .popFront])
            if await !onMain(within: 5, { rooms.rooms.map(\.roomId) == ["!2"] }) {
                problems.append("the room model holds \(rooms.rooms.map(\.roomId))")
            }
            // Without a live stream the control does nothing, and says so.
            if control.isAttached { problems.append("a control without a stream is attached") }
            rooms.setFilter(.favourites)
            if rooms.filter != .favourites { problems.append("the filter was not recorded") }
            rooms.stop()
            if !rooms.isFinished { problems.append("a stopped room model is not finished") }
            return problems
        }
        let ran = await eventually(timeout: 30) { done.value > 0 }
        XCTAssertTrue(ran, "the main actor never finished the models' work")
        guard ran else { return }
        let problems = await work.value
        XCTAssertEqual(problems, [])
        #endif
    }
}

private func item(_ id: String) -> TimelineItem {
    TimelineItem(itemId: id, kind: .timelineStart)
}

private func ids(_ items: [TimelineItem]) -> [String] {
    items.map(\.itemId)
}

private func room(_ id: String, membership: Membership = .joined) -> RoomSummary {
    RoomSummary(
        roomId: id, name: nil, isEncrypted: false, joinedMembers: 1, membership: membership,
        isDirect: false, isFavourite: false, topic: nil, avatarUrl: nil,
        unreadMessages: 0, unreadMentions: 0, latest: nil)
}

/// Polls `condition` on the main actor, sleeping between polls so that the
/// models' tasks run; whether it held within `timeout` seconds.
@MainActor
private func onMain(within timeout: TimeInterval, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() >= deadline { return false }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return true
}
