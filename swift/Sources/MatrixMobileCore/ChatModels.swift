// Not on Linux: Debian trixie's Swift 6.0.3 ships the Observation module, but
// its libswiftObservation.so does not link (undefined reference to
// `swift::threading::fatal`), so the models exist on Apple platforms only.
#if canImport(Observation) && !os(Linux)
import Foundation
import Observation

// Observable models for SwiftUI: a room list and a timeline whose arrays a
// `List` or `ForEach` reads directly (`TimelineItem.itemId` and
// `RoomSummary.roomId` are stable identities).
//
// Each model consumes the raw diff stream (`updates()`,
// `roomListUpdates(options:control:bufferingPolicy:)`, unbounded, so no
// batch is lost) in a task on the main actor, and applies every batch there
// with `apply(_:to:)`: SwiftUI sees the array change on the main actor only.
// The task holds the model weakly; releasing the model (or `stop()`) cancels
// it, which cancels the core's subscription. `isFinished` turns true at the
// core's end signal (the client logged out, closed or was shut down).

/// A timeline's items, kept current on the main actor.
///
/// ```swift
/// @State private var model: TimelineModel
/// ...
/// List(model.items, id: \.itemId) { item in ItemRow(item) }
///     .task { try? await model.paginateBackwards() }
/// ```
@available(iOS 17.0, macOS 14.0, tvOS 17.0, watchOS 10.0, *)
@MainActor
@Observable
public final class TimelineModel {
    /// The items, oldest first.
    public private(set) var items: [TimelineItem] = []
    /// `true` once the core sent its end signal (or the model was stopped).
    public private(set) var isFinished = false
    /// `true` once `paginateBackwards` reached the start of the room.
    public private(set) var reachedStart = false

    /// The timeline this model shows; `nil` only for models built on a
    /// plain stream in tests.
    @ObservationIgnored public let timeline: Timeline?
    @ObservationIgnored private var task: Task<Void, Never>?

    /// Starts following `timeline` at once.
    public convenience init(timeline: Timeline) {
        self.init(timeline: timeline, updates: timeline.updates())
    }

    /// A model fed by `updates` (for tests, and for apps that build the
    /// stream themselves).
    init(timeline: Timeline?, updates: AsyncStream<[TimelineUpdate]>) {
        self.timeline = timeline
        task = Task { [weak self] in
            for await batch in updates {
                guard let self else { return }
                self.items = apply(batch, to: self.items)
            }
            self?.isFinished = true
        }
    }

    /// Loads up to `events` older events; they arrive in `items`.
    /// Returns (and records in `reachedStart`) whether the start of the room
    /// is reached.
    @discardableResult
    public func paginateBackwards(events: UInt16 = 20) async throws -> Bool {
        guard let timeline else { return reachedStart }
        let atStart = try await timeline.paginateBackwards(events: events)
        reachedStart = atStart
        return atStart
    }

    /// Stops following the timeline; `items` keeps its last value.
    public func stop() {
        task?.cancel()
        task = nil
        isFinished = true
    }

    deinit {
        task?.cancel()
    }
}

/// The account's rooms, kept current on the main actor.
///
/// ```swift
/// @State private var rooms = RoomListModel(client: client)
/// ...
/// List(rooms.rooms, id: \.roomId) { room in RoomRow(room) }
///     .searchable(text: $query)
///     .onChange(of: query) { rooms.setFilter(query.isEmpty ? .all : .nameMatches(pattern: query)) }
/// ```
@available(iOS 17.0, macOS 14.0, tvOS 17.0, watchOS 10.0, *)
@MainActor
@Observable
public final class RoomListModel {
    /// The rooms the current filter lets through, newest activity first.
    public private(set) var rooms: [RoomSummary] = []
    /// The filter last asked for.
    public private(set) var filter: RoomListFilter
    /// `true` once the core sent its end signal (or the model was stopped).
    public private(set) var isFinished = false

    @ObservationIgnored private let control: RoomListControl
    @ObservationIgnored private var task: Task<Void, Never>?

    /// Starts following the client's room list at once.
    public convenience init(client: Client, options: RoomListOptions = RoomListOptions(filter: .all)) {
        let control = RoomListControl()
        self.init(
            filter: options.filter,
            control: control,
            updates: client.roomListUpdates(options: options, control: control)
        )
    }

    init(filter: RoomListFilter, control: RoomListControl, updates: AsyncStream<[RoomListUpdate]>) {
        self.filter = filter
        self.control = control
        task = Task { [weak self] in
            for await batch in updates {
                guard let self else { return }
                self.rooms = apply(batch, to: self.rooms)
            }
            self?.isFinished = true
        }
    }

    /// Shows the rooms that `filter` lets through; `rooms` starts over.
    public func setFilter(_ filter: RoomListFilter) {
        self.filter = filter
        control.setFilter(filter)
    }

    /// Adds a page of rooms, if the account has more.
    public func loadMore() {
        control.loadMore()
    }

    /// Stops following the room list; `rooms` keeps its last value.
    public func stop() {
        task?.cancel()
        task = nil
        isFinished = true
    }

    deinit {
        task?.cancel()
    }
}
#endif
