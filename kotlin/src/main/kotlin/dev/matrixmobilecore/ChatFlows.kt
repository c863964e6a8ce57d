// The chat surface as cold Flows: the room list and a timeline as lists (the
// diffs applied) or as raw diffs (for apps that drive DiffUtil or a
// LazyColumn's keys themselves), and who is typing.
//
// The rules are those of MatrixCore.kt's flows: each collection registers its
// own listener; the listener only hands the core's call to an unbounded
// channel (it runs on a core thread, which must never wait for the
// collector); the flow completes at the listener's end signal (`onClosed`,
// when the client logs out, closes or is shut down); cancelling the collector
// cancels and frees the subscription; on a client that has already ended the
// flow completes at once, empty, instead of throwing ClientClosed.
package dev.matrixmobilecore

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.channels.trySendBlocking
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.flow

/** `RoomListOptions` with the contract's defaults: pages of 50, every room. */
fun defaultRoomListOptions(): RoomListOptions = RoomListOptions(pageSize = 50u, filter = RoomListFilter.All)

/**
 * Changes the filter of, and loads more rooms into, the room lists collected
 * with it ([roomList], [roomListUpdates]), while they are collected.
 *
 * A view model keeps one and passes it to the flow:
 * ```
 * val controller = RoomListController()
 * val rooms = client.roomList(controller = controller)   // collect in the UI
 * controller.setFilter(RoomListFilter.Unread)             // the list resets
 * controller.loadMore()                                   // at the end of the list
 * ```
 * Guarantees:
 * - [setFilter] reaches every collection that is running, and is remembered:
 *   a collection that starts later (after a configuration change, say) starts
 *   with it instead of the filter in its `RoomListOptions`;
 * - [loadMore] reaches every collection that is running, and is not remembered;
 * - a collection that ends (end signal, cancellation) is let go at once, so a
 *   controller never calls a released handle.
 *
 * Thread-safe; the calls never block on the core (they only queue a command).
 */
class RoomListController {
    private val lock = Any()
    private val handles = LinkedHashSet<RoomListHandle>()
    private var chosen: RoomListFilter? = null

    /** The filter last passed to [setFilter], or `null` if none was. */
    val filter: RoomListFilter?
        get() = synchronized(lock) { chosen }

    /** How many collections this controller reaches now. */
    val activeCollections: Int
        get() = synchronized(lock) { handles.size }

    /** Shows the rooms that [filter] lets through; each running list emits a reset. */
    fun setFilter(filter: RoomListFilter) = synchronized(lock) {
        chosen = filter
        handles.forEach { it.setFilter(filter) }
    }

    /** Adds a page of rooms to each running list; `false` if none is running. */
    fun loadMore(): Boolean = synchronized(lock) {
        handles.forEach { it.loadMore() }
        handles.isNotEmpty()
    }

    /**
     * Starts a list through [observe] with the remembered filter, under the
     * lock, so that a [setFilter] racing with the start is never lost.
     */
    internal fun attach(options: RoomListOptions, observe: (RoomListOptions) -> RoomListHandle): RoomListHandle =
        synchronized(lock) {
            val handle = observe(chosen?.let { options.copy(filter = it) } ?: options)
            handles += handle
            handle
        }

    internal fun detach(handle: RoomListHandle) {
        synchronized(lock) { handles -= handle }
    }
}

/**
 * Batches of diffs a room list or timeline flow holds for its collector;
 * beyond them the core coalesces (see [roomListUpdates]).
 */
const val DIFF_BUFFER: Int = 16

/**
 * The room list's raw diffs, as the core delivers them: each emission is one
 * batch of [RoomListUpdate]s, the first a `Reset` with the current rooms.
 *
 * For apps that apply the diffs to their own adapter (DiffUtil, a
 * RecyclerView's notify calls); [roomList] applies them for you.
 * Guarantees:
 * - no batch is reordered, and none is lost without a `Reset` taking its
 *   place: the flow buffers [DIFF_BUFFER] batches; beyond that the core's
 *   listener thread waits for the collector, and the core, seeing its queue
 *   for this list grow, replaces what waits with a `Reset` of the list as it
 *   is. So a slow or stalled collector costs bounded memory and then sees
 *   the right list, never a diff against a state it did not see;
 * - the flow completes at the end signal (the client logged out, closed or was
 *   shut down), and at once, empty, on a client that has already ended;
 * - cancelling the collector cancels the list and frees its handle; nothing
 *   is delivered afterwards.
 *
 * @param options page size and initial filter ([defaultRoomListOptions]).
 * @param controller changes the filter and loads more while collecting, or `null`.
 * @throws CoreException.InvalidArgument (from the flow) for a page size of 0.
 */
fun Client.roomListUpdates(
    options: RoomListOptions = defaultRoomListOptions(),
    controller: RoomListController? = null,
): Flow<List<RoomListUpdate>> = callbackFlow {
    MatrixCore.installShutdownHook()
    val scope = this
    val listener = object : RoomListListener {
        override fun onUpdate(updates: List<RoomListUpdate>) {
            scope.trySendBlocking(updates)
        }

        override fun onClosed() {
            scope.channel.close()
        }
    }
    val observe = { o: RoomListOptions -> observeRoomList(o, listener) }
    val handle = try {
        controller?.attach(options, observe) ?: observe(options)
    } catch (_: CoreException.ClientClosed) {
        null
    }
    if (handle == null) channel.close()
    awaitClose {
        if (handle != null) {
            controller?.detach(handle)
            handle.release()
        }
    }
}.buffer(DIFF_BUFFER)

/**
 * The room list as a list: every room of the account that the filter lets
 * through, newest activity first, emitted after each batch of changes.
 *
 * The diffs of [roomListUpdates] applied with [applyDiffs], with the same
 * guarantees: every batch is applied (a slow collector sees fewer emissions,
 * never a wrong list), the flow completes at the end signal, and cancelling
 * the collector cancels the list. Each emission is a new list, never changed
 * afterwards. An invite is a row with `membership == Membership.INVITED`;
 * accept it with [Client.joinRoom].
 */
fun Client.roomList(
    options: RoomListOptions = defaultRoomListOptions(),
    controller: RoomListController? = null,
): Flow<List<RoomSummary>> = flow {
    var rooms = emptyList<RoomSummary>()
    roomListUpdates(options, controller).collect { batch ->
        rooms = batch.applyTo(rooms)
        emit(rooms)
    }
}

/**
 * The timeline's raw diffs: each emission is one batch of [TimelineUpdate]s,
 * the first a `Reset` with the current items.
 *
 * Guarantees as for [roomListUpdates]: a bounded buffer, nothing reordered or
 * lost without a `Reset` in its place, complete
 * at the end signal (and at once, empty, when the client has already ended),
 * cancelling the collector cancels the [Subscription]. The [Timeline] itself
 * stays the caller's: the flow never frees it.
 */
fun Timeline.updates(): Flow<List<TimelineUpdate>> = callbackFlow {
    MatrixCore.installShutdownHook()
    val scope = this
    val subscription = try {
        observe(object : TimelineListener {
            override fun onUpdate(updates: List<TimelineUpdate>) {
                scope.trySendBlocking(updates)
            }

            override fun onClosed() {
                scope.channel.close()
            }
        })
    } catch (_: CoreException.ClientClosed) {
        null
    }
    if (subscription == null) channel.close()
    awaitClose { subscription?.release() }
}.buffer(DIFF_BUFFER)

/**
 * The timeline as a list, oldest item first, emitted after each batch of
 * changes: the diffs of [updates] applied with [applyDiffs].
 *
 * A message's `itemId` stays the same from its local echo (`sendState ==
 * SendState.Sending`) to its `Sent` state, so it is the key for a LazyColumn.
 * Older items arrive through [Timeline.paginateBackwards]. Guarantees as for
 * [updates]; each emission is a new list, never changed afterwards.
 */
fun Timeline.items(): Flow<List<TimelineItem>> = flow {
    var items = emptyList<TimelineItem>()
    updates().collect { batch ->
        items = batch.applyTo(items)
        emit(items)
    }
}

/**
 * Who is typing in the room (this user left out), at each change the server
 * reports. There is no initial emission: the core reports changes only, so
 * treat "nothing emitted yet" as nobody typing. Each list says who types now,
 * so a slow collector gets the latest one (the flow is conflated); complete at
 * the end signal, cancelling the collector cancels the subscription.
 */
fun Timeline.typing(): Flow<List<String>> = callbackFlow {
    MatrixCore.installShutdownHook()
    val scope = this
    val subscription = try {
        observeTyping(object : TypingListener {
            override fun onTyping(userIds: List<String>) {
                scope.trySend(userIds)
            }

            override fun onClosed() {
                scope.channel.close()
            }
        })
    } catch (_: CoreException.ClientClosed) {
        null
    }
    if (subscription == null) channel.close()
    awaitClose { subscription?.release() }
}.buffer(Channel.CONFLATED)

/** Cancels the list and frees its handle; safe to call more than once. */
private fun RoomListHandle.release() {
    try {
        cancel()
    } finally {
        destroy()
    }
}
