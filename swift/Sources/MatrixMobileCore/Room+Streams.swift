import Foundation

// One room followed, as an `AsyncStream`: its summary (name, topic, avatar,
// members, unread counts, flags) now and at each change, for a room's screen
// or its header. The rest of "rooms and people" (creating rooms with options,
// direct messages, room settings, members and moderation, profiles, ignoring,
// reporting, devices) is plain `async throws` methods, generated.
//
// The rules of `Client+Streams.swift` hold here too: the stream owns one
// `Subscription`, cancelled when the stream terminates (the consuming task is
// cancelled, its `for await` loop is left, or the stream is released); it
// finishes on the core's end signal (`onClosed()`, when the client logs out,
// closes or is shut down), and at once, empty, on a client that is already
// closing or closed.

extension Client {
    /// One room's summary as an `AsyncStream`: the current summary first,
    /// then a new one at each change the core sees (a rename, a topic, an
    /// avatar set or removed, a member joining or leaving, new unread counts,
    /// a flag such as favourite or direct). The core never sends the same
    /// summary twice in a row.
    ///
    /// ```swift
    /// for await summary in try client.roomSummaries(roomId: roomId) {
    ///     header.show(summary.name, summary.topic, summary.avatar)
    /// }
    /// // elsewhere: the loop above sees the new name
    /// try await client.setRoomName(roomId: roomId, name: "Lunch")
    /// ```
    ///
    /// Built on ``Client/observeRoom(roomId:listener:)``, which registers at
    /// once: a room the client does not know throws here, before any
    /// iteration. The stream finishes on the core's end signal (the client
    /// logged out, closed or was shut down), and at once, empty, on a client
    /// that is already closing or closed (where `observeRoom` throws
    /// `CoreError.ClientClosed`), as the other streams do. When the stream
    /// terminates early (the consuming task is cancelled, the loop breaks, or
    /// the stream is released), its subscription is cancelled, so the core
    /// stops delivering to it. A room the user leaves, or whose invite is
    /// declined, is still followed until then; the core sends no summary for
    /// a room it forgot. To read the summary once, call ``Client/room(roomId:)``.
    ///
    /// - Parameters:
    ///   - roomId: a room the client knows (joined, invited or left).
    ///   - bufferingPolicy: each summary is the whole room and replaces the
    ///     one before, so by default only the newest is kept while the
    ///     consumer is busy (`.bufferingNewest(1)`); pass `.unbounded` to see
    ///     every one.
    /// - Throws: `CoreError.NotFound` for a room the client does not know,
    ///   `CoreError.InvalidArgument` for a malformed room id.
    public func roomSummaries(
        roomId: String,
        bufferingPolicy: AsyncStream<RoomSummary>.Continuation.BufferingPolicy = .bufferingNewest(1)
    ) throws -> AsyncStream<RoomSummary> {
        let (stream, continuation) = AsyncStream.makeStream(of: RoomSummary.self, bufferingPolicy: bufferingPolicy)
        // Held here so that a refused registration cannot release the
        // listener (whose deinit finishes the stream) before the catch.
        let listener = RoomSummaryStreamListener(continuation)
        do {
            let subscription = try observeRoom(roomId: roomId, listener: listener)
            continuation.onTermination = { _ in subscription.cancel() }
        } catch CoreError.ClientClosed {
            // The client is past its end signal: nothing more will come.
            continuation.finish()
        } catch {
            continuation.finish()
            throw error
        }
        withExtendedLifetime(listener) {}
        return stream
    }
}

/// Forwards one room's summaries into a stream; finishes it on `onClosed()`
/// (the end signal), or when the core releases the listener. Called on core
/// threads; its only stored state is an `AsyncStream.Continuation`, which is
/// Sendable and may be used from any thread.
private final class RoomSummaryStreamListener: RoomListener, Sendable {
    private let continuation: AsyncStream<RoomSummary>.Continuation

    init(_ continuation: AsyncStream<RoomSummary>.Continuation) {
        self.continuation = continuation
    }

    func onUpdate(summary: RoomSummary) {
        continuation.yield(summary)
    }

    func onClosed() {
        continuation.finish()
    }

    deinit {
        continuation.finish()
    }
}
