// Keeping what matters, as cold Flows: the recovery state, incoming
// verification requests, a verification's states, and the session's token
// refreshes and refusals.
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
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow

/**
 * The account's recovery state as this device sees it: the current state first
 * ([RecoveryState.UNKNOWN] before the first sync or check), then each change
 * ([Client.enableRecovery], [Client.recover], another device's changes).
 *
 * Guarantees as for [messages]: every state in order (unbounded buffer),
 * completes at the end signal (the client logged out, closed or was shut
 * down), completes at once, empty, on a client that has already ended, and
 * cancelling the collector cancels the [Subscription]. To read the state once,
 * call [Client.recoveryState].
 */
fun Client.recoveryStates(): Flow<RecoveryState> = callbackFlow {
    MatrixCore.installShutdownHook()
    val scope = this
    val subscription = try {
        observeRecoveryState(object : RecoveryStateListener {
            override fun onState(state: RecoveryState) {
                scope.trySend(state)
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
 * Each verification request another device of this user sends, as a
 * [Verification] to answer (collect its [states], then [Verification.accept],
 * [Verification.startSas], [Verification.confirm] or [Verification.cancel]).
 *
 * Guarantees as for [messages]: no request dropped, completes at the end
 * signal, at once, empty, on a client that has already ended, and cancelling
 * the collector cancels the [Subscription]. Each emitted [Verification] is the
 * collector's: free it (`close()`) when done with it; the flow never does.
 */
fun Client.verificationRequests(): Flow<Verification> = callbackFlow {
    MatrixCore.installShutdownHook()
    val scope = this
    val subscription = try {
        observeVerificationRequests(object : VerificationRequestListener {
            override fun onRequest(verification: Verification) {
                // Not delivered (the collection ended meanwhile): nobody else
                // holds it, so free it here.
                if (scope.trySend(verification).isFailure) verification.destroy()
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
 * The verification's states: the current one first ([VerificationState.Requested]
 * for a new request), then each change, up to [VerificationState.Done] or
 * [VerificationState.Cancelled], after which the flow completes.
 *
 * Also completes at the end signal (the client ended before the verification
 * did), and at once, empty, when the client has already ended. Every state in
 * order (unbounded buffer); cancelling the collector cancels the
 * [Subscription]. The [Verification] stays the caller's: the flow never frees
 * it. Acting from the collector is fine:
 * ```
 * verification.states().collect { state ->
 *     when (state) {
 *         is VerificationState.Requested -> verification.accept()
 *         is VerificationState.Ready -> verification.startSas()
 *         is VerificationState.Emojis -> if (userSaysTheyMatch(state.emojis)) verification.confirm()
 *         else -> {}
 *     }
 * }
 * ```
 */
fun Verification.states(): Flow<VerificationState> = callbackFlow {
    MatrixCore.installShutdownHook()
    val scope = this
    val subscription = try {
        observe(object : VerificationListener {
            override fun onState(state: VerificationState) {
                scope.trySend(state)
                if (state is VerificationState.Done || state is VerificationState.Cancelled) scope.channel.close()
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
 * What happens to the session's tokens, as [Client.sessionEvents] emits it.
 *
 * The flow has no initial emission: the session to start from is the one
 * [Client.login] returned (or the one passed to `restore`); each [Refreshed]
 * replaces it.
 */
sealed class SessionEvent {
    /**
     * matrix-sdk refreshed the tokens: store [session] in place of the one
     * kept so far (the old tokens no longer work); `restore` takes it.
     */
    data class Refreshed(val session: Session) : SessionEvent() {
        /** Leaves the tokens out, so that logging an event never logs a secret. */
        override fun toString(): String =
            "Refreshed(userId=${session.userId}, deviceId=${session.deviceId}, homeserverUrl=${session.homeserverUrl})"
    }

    /**
     * The server refused the token and no refresh could fix it. With
     * [softLogout], the device and its keys still exist: log in again as the
     * same user on the same `dataDir`; without it the device is gone.
     */
    data class AuthError(val softLogout: Boolean) : SessionEvent()
}

/**
 * The current session first (a [SessionEvent.Refreshed]), then the session's
 * token refreshes and the server's refusals, as [SessionEvent]s in the order
 * they happen. A refresh is in the first event or emitted after it, never
 * lost between the two.
 *
 * One flow of events rather than a flow of [Session]s, because an app must
 * handle both: a refresh is something to store, a refusal something to show
 * (a new login). [SessionEvent.Refreshed] carries secrets (the access and
 * refresh tokens); its `toString()` leaves them out, but the generated
 * `Session`'s does not, so never log the session itself.
 *
 * Guarantees as for [messages]: every event in order (unbounded buffer),
 * completes at the end signal (the client closed, logged out or was shut down;
 * an [SessionEvent.AuthError] does not end the flow by itself, and comes once
 * per refused token, however many requests the server refused), at once,
 * empty, on a client that has already ended, and cancelling the collector
 * cancels the [Subscription].
 */
fun Client.sessionEvents(): Flow<SessionEvent> = callbackFlow {
    MatrixCore.installShutdownHook()
    val scope = this
    val subscription = try {
        observeSession(object : SessionListener {
            override fun onSessionChanged(session: Session) {
                scope.trySend(SessionEvent.Refreshed(session))
            }

            override fun onAuthError(softLogout: Boolean) {
                scope.trySend(SessionEvent.AuthError(softLogout))
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
