// The hand-written Kotlin layer over the generated bindings (matrix_mobile_core.kt).
//
// The generated code already gives `suspend` functions for every async call of
// the core and `AutoCloseable` objects. This file adds what UniFFI cannot
// express: listener-based streams as cold `Flow`s that complete on the core's
// end signals, the sync state as a hot `StateFlow`, the drain under a name of
// its own (`closeAndDrain`, never confused with `AutoCloseable.close()`), a
// scope function that awaits the drain before it lets go of a `Client`, and a
// JVM shutdown hook that shuts the core down at exit.
package dev.matrixmobilecore

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.SharingStarted
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.stateIn
import kotlinx.coroutines.withContext
import java.util.concurrent.atomic.AtomicBoolean

/**
 * Process-wide parts of the Kotlin layer.
 *
 * Guarantee: once [installShutdownHook] has run, a JVM that exits normally
 * (end of `main`, `System.exit`, SIGTERM) first calls [shutdownBlocking]: every
 * live client is closed with the full drain (as `close`, so a kept session can
 * be restored later), and no core thread outlives the JVM's own shutdown.
 */
object MatrixCore {
    /** The bound of the shutdown at exit, in milliseconds, unless the app passes its own. */
    const val EXIT_SHUTDOWN_TIMEOUT_MS: Int = 5_000

    private val hookInstalled = AtomicBoolean(false)

    /**
     * Installs the JVM shutdown hook that calls [shutdownBlocking] with
     * [timeoutMs]; only the first call installs it. Returns whether this call did.
     *
     * The layer calls it itself on first use ([syncStates], [messages],
     * [syncStateIn], [closeAndDrain], [closing]); an app that uses only the
     * generated API calls it at start-up (in `main`, or `Application.onCreate`).
     * The hook never throws: a failure is printed to stderr. On Android the
     * system usually kills the process without running shutdown hooks; there,
     * [closeAndDrain], [Client.logout] or [shutdown] from the app's own
     * lifecycle is what drains.
     */
    @JvmStatic
    @JvmOverloads
    fun installShutdownHook(timeoutMs: Int = EXIT_SHUTDOWN_TIMEOUT_MS): Boolean {
        require(timeoutMs >= 0) { "timeoutMs must not be negative, got $timeoutMs" }
        if (!hookInstalled.compareAndSet(false, true)) return false
        val hook = Thread({ shutdownAtExit(timeoutMs.toUInt()) }, "matrix-core-exit")
        return try {
            Runtime.getRuntime().addShutdownHook(hook)
            true
        } catch (_: IllegalStateException) {
            false // the JVM is already shutting down
        }
    }

    private fun shutdownAtExit(timeoutMs: UInt) {
        try {
            shutdownBlocking(ShutdownOptions(timeoutMs = timeoutMs))
        } catch (e: Throwable) {
            System.err.println("matrix-mobile-core: shutting the core down at exit failed: $e")
        }
    }
}

/**
 * The client's sync states as a cold [Flow]: the current state first, then every
 * change, and [SyncState.TERMINATED] last.
 *
 * Each collection registers its own listener with [Client.observeSyncState].
 * Guarantees:
 * - the flow completes after emitting [SyncState.TERMINATED], the core's end
 *   signal when the client closes, logs out or is shut down;
 * - on a client that is already closing or closed, it emits
 *   [SyncState.TERMINATED] (the state such a client is in) and completes at once,
 *   instead of failing with [CoreException.ClientClosed];
 * - when the collector is cancelled (or stops early, e.g. through `first {}`),
 *   the [Subscription] is cancelled and released, and the core delivers
 *   nothing to it afterwards.
 *
 * States are buffered without bound, so a slow collector never blocks the core's
 * threads and sees every state in order. The flow fails with
 * [IllegalStateException] if this [Client] handle was already released.
 */
fun Client.syncStates(): Flow<SyncState> = callbackFlow {
    MatrixCore.installShutdownHook()
    val scope = this
    val subscription = try {
        observeSyncState(object : SyncStateListener {
            override fun onState(state: SyncState) {
                scope.trySend(state)
                if (state == SyncState.TERMINATED) scope.channel.close()
            }
        })
    } catch (_: CoreException.ClientClosed) {
        trySend(SyncState.TERMINATED)
        null
    }
    if (subscription == null) channel.close()
    awaitClose { subscription?.release() }
}.buffer(Channel.UNLIMITED)

/**
 * The client's sync state as a hot [StateFlow], shared in [scope]: `value` is
 * always the latest state the core reported, for UIs that read the state
 * rather than react to each change.
 *
 * One listener ([syncStates]) is registered at once, not per collector, and
 * every collector of the returned flow shares it. Guarantees:
 * - `value` starts at [Client.syncState] and follows every change the core
 *   reports; like every [StateFlow], a slow collector sees the latest state,
 *   not necessarily each intermediate one (use [syncStates] for all of them);
 * - when the client closes, logs out or is shut down, `value` becomes
 *   [SyncState.TERMINATED] and stays so: the listener is released at that end
 *   signal, and nothing keeps running in [scope] for this flow;
 * - cancelling [scope] before that releases the listener too; `value` then
 *   stays at the last state seen.
 *
 * Call it once per screen or view model and keep the result, e.g.
 * `val sync = client.syncStateIn(viewModelScope)`; each call registers a
 * listener of its own.
 */
fun Client.syncStateIn(scope: CoroutineScope): StateFlow<SyncState> =
    syncStates().stateIn(scope, SharingStarted.Eagerly, syncState())

/**
 * Closes this client with the full drain and returns once it is done: the
 * awaited counterpart of [AutoCloseable.close].
 *
 * Two closes exist, and they differ:
 * - `close()` with no argument (from [AutoCloseable], generated by UniFFI) only
 *   frees this handle; the core then closes the client in the background, and
 *   nothing tells you when;
 * - `closeAndDrain()` awaits the core's `close`: when it returns, sync has
 *   stopped, the client's tasks have ended and its stores are closed, as the
 *   [CloseReport] states (`storeFilesOpenAfter`, `clientDropped`). The session
 *   stays valid on the server, so it can be restored later.
 *
 * The handle is not freed: reading [Client.state] afterwards is fine; free it
 * with `close()` when done, or use [closing], which does both. To end the
 * session on the server as well, call [Client.logout] instead.
 *
 * # Cancel safety
 * Cancelling the caller does not stop the drain: it completes in the background.
 *
 * @param listener told each phase of the drain as it starts, or `null`.
 * @throws CoreException.ClientClosed if the client is already closing,
 *   logging out or closed.
 */
suspend fun Client.closeAndDrain(listener: LifecycleListener? = null): CloseReport {
    MatrixCore.installShutdownHook()
    return close(listener)
}

/**
 * Every text message that sync delivers, as a cold [Flow].
 *
 * Each collection registers its own listener with [Client.observeMessages].
 * Guarantees:
 * - the flow completes on [MessageListener.onClosed], the core's end signal
 *   when the client closes, logs out or is shut down;
 * - on a client that is already closing or closed, it completes at once, empty,
 *   instead of failing with [CoreException.ClientClosed];
 * - when the collector is cancelled, the [Subscription] is cancelled and
 *   released, and nothing is delivered to it afterwards.
 *
 * No message is dropped while collecting: messages are buffered without bound,
 * so the core's threads never wait for the collector.
 */
fun Client.messages(): Flow<Message> = callbackFlow {
    MatrixCore.installShutdownHook()
    val scope = this
    val subscription = try {
        observeMessages(object : MessageListener {
            override fun onMessage(message: Message) {
                scope.trySend(message)
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
}.buffer(Channel.UNLIMITED)

/**
 * Runs [block] with this client, then closes it with the full drain of
 * [closeAndDrain] and frees the handle, even when [block] throws or is cancelled.
 *
 * Guarantee: when this returns (or throws), the client's sync has stopped, its
 * tasks have ended and its stores are closed, exactly as after [closeAndDrain].
 * A client that [block] already logged out or closed is only released. Unlike
 * `use {}` from the standard library, which only drops the handle (the core
 * then closes the client in the background), this waits for the close.
 */
suspend fun <R> Client.closing(block: suspend (Client) -> R): R {
    MatrixCore.installShutdownHook()
    var failure: Throwable? = null
    try {
        return block(this)
    } catch (e: Throwable) {
        failure = e
        throw e
    } finally {
        withContext(NonCancellable) {
            try {
                closeAndDrain()
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
internal fun Subscription.release() {
    try {
        cancel()
    } finally {
        destroy()
    }
}
