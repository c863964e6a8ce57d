import Foundation

// Swift-native views of the chat surface: the room list, a timeline's items
// and who is typing, as `AsyncStream`s.
//
// The rules of `Client+Streams.swift` hold here too. Each stream owns one
// registration in the core (a `Subscription`, or a `RoomListHandle`), which is
// cancelled when the stream terminates: the consuming task is cancelled, its
// `for await` loop is left, or the stream is released. Each stream finishes on
// the core's end signal (`onClosed()`, when the client logs out, closes or is
// shut down), and at once, empty, when the core refuses the registration (a
// client that is closing or closed: `ClientClosed`).
//
// Two shapes of each list:
// - the raw diffs (`roomListUpdates`, `updates`): every batch the core sent,
//   unbounded by default, for an app that applies them itself (a diffable
//   data source, or `apply(_:to:)`); dropping a batch would put the app out of
//   step, so keep the default buffer;
// - snapshots (`roomList`, `items`): the diffs are applied as they arrive, on
//   the core's listener thread, and the whole list is yielded after each
//   batch. A snapshot replaces the one before, so by default only the newest
//   is kept while the consumer is busy (`.bufferingNewest(1)`); pass
//   `.unbounded` to see every intermediate list.
//
// Listeners are called on core threads, one call at a time per registration.

/// Changes a room list while it is iterated: its filter and its size.
///
/// Pass one to ``Client/roomList(options:control:bufferingPolicy:)`` or
/// ``Client/roomListUpdates(options:control:bufferingPolicy:)``; from then on it
/// drives that stream's list:
///
/// ```swift
/// let control = RoomListControl()
/// for await rooms in client.roomList(options: RoomListOptions(filter: .all), control: control) {
///     show(rooms)
///     if userScrolledToEnd { control.loadMore() }
/// }
/// // elsewhere, e.g. a search field:
/// control.setFilter(.nameMatches(pattern: query))
/// ```
///
/// A new filter makes the core send a `reset` with the rooms it lets through;
/// `loadMore()` adds a page of `pageSize` rooms. Both may be called from any
/// thread, the consuming loop included. Before the stream starts, after it
/// ended, or when the core refused it, they do nothing. A control drives one
/// stream at a time: passing it to a second stream moves it there.
public final class RoomListControl: @unchecked Sendable {
    // @unchecked Sendable, proved: the only mutable state, `handle`, is read
    // and written only inside `lock.lock()`/`unlock()` pairs (`current()`,
    // `attach`, `detach`), so no two threads touch it at once; `lock` is a
    // `let`, and `RoomListHandle` itself is Sendable. The handle's
    // methods are called after the lock is released, so a call that waits in
    // the core never holds it.
    private let lock = NSLock()
    private var handle: RoomListHandle?

    public init() {}

    /// Shows the rooms that `filter` lets through; the list starts over.
    public func setFilter(_ filter: RoomListFilter) {
        current()?.setFilter(filter: filter)
    }

    /// Adds a page of rooms, if the account has more.
    public func loadMore() {
        current()?.loadMore()
    }

    /// Whether a live stream is driven by this control.
    public var isAttached: Bool {
        current() != nil
    }

    private func current() -> RoomListHandle? {
        lock.lock()
        defer { lock.unlock() }
        return handle
    }

    func attach(_ handle: RoomListHandle) {
        lock.lock()
        self.handle = handle
        lock.unlock()
    }

    /// Lets go of `handle` unless the control has moved to another stream.
    func detach(_ handle: RoomListHandle) {
        lock.lock()
        if self.handle === handle {
            self.handle = nil
        }
        lock.unlock()
    }
}

extension Client {
    /// The rooms of the account, newest activity first, as a stream of whole
    /// lists: the current list first, then the list after every change.
    ///
    /// Built on ``Client/observeRoomList(options:listener:)``; the diffs are
    /// applied for you (see `apply(_:to:)`). Finishes on
    /// the core's end signal; its room list is cancelled when the stream
    /// terminates early.
    ///
    /// - Parameters:
    ///   - options: page size and first filter.
    ///   - control: changes the filter or loads more while iterating.
    ///   - bufferingPolicy: by default only the newest list is kept while the
    ///     consumer is busy.
    public func roomList(
        options: RoomListOptions = RoomListOptions(filter: .all),
        control: RoomListControl? = nil,
        bufferingPolicy: AsyncStream<[RoomSummary]>.Continuation.BufferingPolicy = .bufferingNewest(1)
    ) -> AsyncStream<[RoomSummary]> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            let listener = RoomListSnapshotListener(continuation)
            guard let handle = startRoomList(options: options, control: control, listener: listener) else {
                continuation.finish()
                return
            }
            continuation.onTermination = { [weak control] _ in
                control?.detach(handle)
                handle.cancel()
            }
        }
    }

    /// The room list's diffs as the core sends them, a `reset` first.
    ///
    /// For an app that applies them itself (`apply(_:to:)`
    /// does). With the default unbounded buffer no batch is dropped. Ends as
    /// ``roomList(options:control:bufferingPolicy:)`` does.
    public func roomListUpdates(
        options: RoomListOptions = RoomListOptions(filter: .all),
        control: RoomListControl? = nil,
        bufferingPolicy: AsyncStream<[RoomListUpdate]>.Continuation.BufferingPolicy = .unbounded
    ) -> AsyncStream<[RoomListUpdate]> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            let listener = RoomListUpdatesListener(continuation)
            guard let handle = startRoomList(options: options, control: control, listener: listener) else {
                continuation.finish()
                return
            }
            continuation.onTermination = { [weak control] _ in
                control?.detach(handle)
                handle.cancel()
            }
        }
    }

    /// Registers `listener` and hands the handle to `control`; `nil` when
    /// the core refuses: `ClientClosed` (the client is past its end signal)
    /// or an invalid page size. A stream cannot throw, so it then ends empty.
    private func startRoomList(
        options: RoomListOptions,
        control: RoomListControl?,
        listener: RoomListListener
    ) -> RoomListHandle? {
        guard let handle = try? observeRoomList(options: options, listener: listener) else {
            return nil
        }
        control?.attach(handle)
        return handle
    }
}

extension Timeline {
    /// The timeline's items as a stream of whole lists: the current items
    /// first, then the items after every change (a local echo, its send
    /// state, an edit, a reaction, older events that `paginateBackwards`
    /// loaded).
    ///
    /// Built on ``Timeline/observe(listener:)``; the diffs are applied for you.
    /// Finishes on the core's end signal (the client ended), at once when the
    /// client is already closed; the subscription is cancelled when the
    /// stream terminates early.
    ///
    /// - Parameter bufferingPolicy: by default only the newest list is kept
    ///   while the consumer is busy; `.unbounded` yields every one.
    public func items(
        bufferingPolicy: AsyncStream<[TimelineItem]>.Continuation.BufferingPolicy = .bufferingNewest(1)
    ) -> AsyncStream<[TimelineItem]> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            let listener = TimelineSnapshotListener(continuation)
            do {
                let subscription = try observe(listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish()
            }
            withExtendedLifetime(listener) {}
        }
    }

    /// The timeline's diffs as the core sends them, a `reset` first.
    ///
    /// For an app that applies them itself (a diffable data source, or
    /// `apply(_:to:)`). With the default unbounded buffer
    /// no batch is dropped. Ends as ``items(bufferingPolicy:)`` does.
    public func updates(
        bufferingPolicy: AsyncStream<[TimelineUpdate]>.Continuation.BufferingPolicy = .unbounded
    ) -> AsyncStream<[TimelineUpdate]> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            let listener = TimelineUpdatesListener(continuation)
            do {
                let subscription = try observe(listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish()
            }
            withExtendedLifetime(listener) {}
        }
    }

    /// Who is typing in the room (user ids, the app's own user left out),
    /// the current list first, then every change.
    ///
    /// Built on ``Timeline/observeTyping(listener:)``; ends as
    /// ``items(bufferingPolicy:)`` does.
    public func typing(
        bufferingPolicy: AsyncStream<[String]>.Continuation.BufferingPolicy = .bufferingNewest(1)
    ) -> AsyncStream<[String]> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            let listener = TypingStreamListener(continuation)
            do {
                let subscription = try observeTyping(listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish()
            }
            withExtendedLifetime(listener) {}
        }
    }
}

// The listeners below are called on core threads. The forwarding ones are
// checked `Sendable`: their only stored state is an `AsyncStream.Continuation`,
// which is Sendable and may be used from any thread. The snapshot listeners
// are `@unchecked Sendable`, each with its proof. Every one finishes its
// stream on the end signal, and in `deinit`, when the core lets go of it.

/// Forwards room list diffs as they come.
private final class RoomListUpdatesListener: RoomListListener, Sendable {
    private let continuation: AsyncStream<[RoomListUpdate]>.Continuation

    init(_ continuation: AsyncStream<[RoomListUpdate]>.Continuation) {
        self.continuation = continuation
    }

    func onUpdate(updates: [RoomListUpdate]) {
        continuation.yield(updates)
    }

    func onClosed() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}

/// Applies room list diffs and yields the whole list after each batch.
private final class RoomListSnapshotListener: RoomListListener, @unchecked Sendable {
    // @unchecked Sendable, proved: `rooms`, the only mutable state, is read
    // and written only in `onUpdate`, between `lock.lock()` and the deferred
    // `unlock()`; the other properties are `let`s of Sendable types.
    private let continuation: AsyncStream<[RoomSummary]>.Continuation
    private let lock = NSLock()
    private var rooms: [RoomSummary] = []

    init(_ continuation: AsyncStream<[RoomSummary]>.Continuation) {
        self.continuation = continuation
    }

    func onUpdate(updates: [RoomListUpdate]) {
        lock.lock()
        defer { lock.unlock() }
        rooms = apply(updates, to: rooms)
        continuation.yield(rooms)
    }

    func onClosed() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}

/// Forwards timeline diffs as they come.
private final class TimelineUpdatesListener: TimelineListener, Sendable {
    private let continuation: AsyncStream<[TimelineUpdate]>.Continuation

    init(_ continuation: AsyncStream<[TimelineUpdate]>.Continuation) {
        self.continuation = continuation
    }

    func onUpdate(updates: [TimelineUpdate]) {
        continuation.yield(updates)
    }

    func onClosed() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}

/// Applies timeline diffs and yields the whole list after each batch.
private final class TimelineSnapshotListener: TimelineListener, @unchecked Sendable {
    // @unchecked Sendable, proved: `items`, the only mutable state, is read
    // and written only in `onUpdate`, between `lock.lock()` and the deferred
    // `unlock()`; the other properties are `let`s of Sendable types.
    private let continuation: AsyncStream<[TimelineItem]>.Continuation
    private let lock = NSLock()
    private var items: [TimelineItem] = []

    init(_ continuation: AsyncStream<[TimelineItem]>.Continuation) {
        self.continuation = continuation
    }

    func onUpdate(updates: [TimelineUpdate]) {
        lock.lock()
        defer { lock.unlock() }
        items = apply(updates, to: items)
        continuation.yield(items)
    }

    func onClosed() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}

/// Forwards who is typing.
private final class TypingStreamListener: TypingListener, Sendable {
    private let continuation: AsyncStream<[String]>.Continuation

    init(_ continuation: AsyncStream<[String]>.Continuation) {
        self.continuation = continuation
    }

    func onTyping(userIds: [String]) {
        continuation.yield(userIds)
    }

    func onClosed() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}
