// The hand-written Kotlin layer over the generated bindings (matrix_mobile_core.kt).
//
// The generated code already gives `suspend` functions for every async call of
// the core and `AutoCloseable` objects. This file adds what UniFFI cannot
// express: listener-based streams as cold `Flow`s, and a scope function that
// awaits the core's drain before it lets go of a `Client`.
package dev.matrixmobilecore

import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.withContext

/**
 * The client's sync states as a cold [Flow]: the current state first, then every change.
 *
 * Each collection registers its own listener with [Client.observeSyncState].
 * Guarantee: when the collector is cancelled (or stops early, e.g. through `first {}`),
 * the [Subscription] is cancelled and released, and the core delivers nothing
 * to it afterwards. States are buffered without bound, so a slow collector
 * never blocks the core's threads and sees every state in order.
 *
 * The flow does not complete on its own; it fails with [IllegalStateException]
 * if this [Client] handle was already released.
 */
fun Client.syncStates(): Flow<SyncState> = callbackFlow {
    val subscription = observeSyncState(object : SyncStateListener {
        override fun onState(state: SyncState) {
            trySend(state)
        }
    })
    awaitClose { subscription.release() }
}.buffer(Channel.UNLIMITED)

/**
 * Every text message that sync delivers, as a cold [Flow].
 *
 * Each collection registers its own listener with [Client.observeMessages].
 * Guarantee: when the collector is cancelled, the [Subscription] is cancelled
 * and released, and nothing is delivered to it afterwards. No message is
 * dropped while collecting: messages are buffered without bound, so the core's
 * threads never wait for the collector.
 */
fun Client.messages(): Flow<Message> = callbackFlow {
    val subscription = observeMessages(object : MessageListener {
        override fun onMessage(message: Message) {
            trySend(message)
        }
    })
    awaitClose { subscription.release() }
}.buffer(Channel.UNLIMITED)

/**
 * Runs [block] with this client, then closes it with the full drain of
 * [Client.close] and releases the handle, even when [block] throws or is cancelled.
 *
 * Guarantee: when this returns (or throws), the client's sync has stopped, its
 * tasks have ended and its stores are closed, exactly as after `close(null)`.
 * A client that [block] already logged out or closed is only released. Unlike
 * `use {}` from the standard library, which only drops the handle (the core
 * then closes the client in the background), this waits for the close.
 */
suspend fun <R> Client.closing(block: suspend (Client) -> R): R {
    var failure: Throwable? = null
    try {
        return block(this)
    } catch (e: Throwable) {
        failure = e
        throw e
    } finally {
        withContext(NonCancellable) {
            try {
                close(null)
            } catch (_: CoreException.ClientClosed) {
                // Already logged out or closed: nothing left to drain.
            } catch (e: CoreException) {
                if (failure == null) throw e else failure.addSuppressed(e)
            } finally {
                destroy()
            }
        }
    }
}

/** Cancels the subscription and frees its handle; safe to call more than once. */
private fun Subscription.release() {
    try {
        cancel()
    } finally {
        destroy()
    }
}
