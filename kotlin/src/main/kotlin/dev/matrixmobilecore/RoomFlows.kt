// One room followed, as a cold Flow: its summary (name, topic, avatar,
// members, unread counts, flags) now and at each change, for a room's screen
// or its header. The rest of "rooms and people" (creating rooms with
// options, direct messages, room settings, members and moderation, profiles,
// ignoring, reporting, devices) is plain `suspend` functions, generated.
//
// The rules are those of MatrixCore.kt's flows: each collection registers its
// own listener; the listener only hands the core's call to a channel (it runs
// on a core thread, which must never wait for the collector); the flow
// completes at the listener's end signal (`onClosed`, when the client logs
// out, closes or is shut down); cancelling the collector cancels and frees
// the subscription; on a client that has already ended the flow completes at
// once, empty, instead of throwing ClientClosed.
package dev.matrixmobilecore

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow

/**
 * One room's summary: the current one first, then a new summary at each
 * change the core sees (a rename, a topic, an avatar set or removed, a member
 * joining or leaving, new unread counts, a flag such as favourite or direct).
 * The core never emits the same summary twice in a row.
 *
 * ```
 * scope.launch { client.roomSummaries(roomId).collect { header.show(it.name, it.topic, it.avatar) } }
 * client.setRoomName(roomId, "Lunch")   // the collector sees the new name
 * ```
 * Guarantees:
 * - each emission is the whole summary, so the flow is conflated: a slow
 *   collector gets the latest summary, never a stale one, and never blocks
 *   the core's threads; to read the summary once, call [Client.room];
 * - the flow completes at the end signal (the client logged out, closed or
 *   was shut down), and at once, empty, on a client that has already ended;
 * - cancelling the collector cancels and frees the [Subscription]; nothing is
 *   delivered afterwards.
 *
 * A room the user leaves, or whose invite is declined, is still followed
 * until the collector stops (the core sends no summary for a room it
 * forgot).
 *
 * @param roomId a room the client knows (joined, invited or left).
 * @throws CoreException.NotFound (from the flow) for a room the client does
 *   not know, [CoreException.InvalidArgument] for a malformed room id.
 */
fun Client.roomSummaries(roomId: String): Flow<RoomSummary> = callbackFlow {
    MatrixCore.installShutdownHook()
    val scope = this
    val subscription = try {
        observeRoom(roomId, object : RoomListener {
            override fun onUpdate(summary: RoomSummary) {
                scope.trySend(summary)
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
