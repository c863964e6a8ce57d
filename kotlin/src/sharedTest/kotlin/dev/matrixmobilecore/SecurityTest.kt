package dev.matrixmobilecore

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * Keeping what matters, through the flows of SecurityFlows.kt against the real
 * Synapse: an encrypted room's history survives a wiping logout and decrypts
 * on a new device after `recover(key)`; two devices of one user verify each
 * other by emoji; the session flow reports a token the server revoked; every
 * flow ends at its client's end signal.
 */
class SecurityTest {
    /** Every emission of [flow], collected on a core-independent thread until the flow completes. */
    private class Recorder<T>(scope: CoroutineScope, flow: Flow<T>) {
        val seen = CopyOnWriteArrayList<T>()
        val done: Deferred<Unit> = scope.async(Dispatchers.Default) { flow.collect { seen += it } }

        /** Fails unless the flow completed normally (its end signal) within [timeout]. */
        suspend fun assertCompletes(what: String, timeout: Duration = 15.seconds) {
            assertNotNull(withTimeoutOrNull(timeout) { done.await() }, "$what did not complete at the end signal")
        }
    }

    private val wipe = LogoutOptions(serverTimeoutMs = 15_000u, wipeLocalData = true)

    /** A new device of [user]: its own empty data directory, logged in, syncing. */
    private suspend fun device(user: TestUser, name: String): Client {
        val client = Client.create(testConfig())
        try {
            client.login(user.username, user.password, name)
            client.startSync()
        } catch (e: Throwable) {
            client.destroy()
            throw e
        }
        return client
    }

    private suspend fun Client.bodies(roomId: String): List<String> = recentMessages(roomId, 50u).map { it.body }

    @Test
    fun encryptedHistoryDecryptsOnANewDeviceAfterRecover() = coreTest(240.seconds) {
        awaitNoLiveClients()
        val user = registerUser()
        val alice = device(user, "first")
        var again: Client? = null
        try {
            eventually("a known recovery state", timeout = 30.seconds, read = { alice.recoveryState() }) {
                it != RecoveryState.UNKNOWN
            }
            val states = Recorder(this, alice.recoveryStates())
            val firstSeen = eventually("the flow's first state", read = { states.seen.firstOrNull() }) { it != null }
            assertEquals(RecoveryState.DISABLED, firstSeen, "the current state first")

            val roomId = alice.createRoom("vault", emptyList(), true)
            eventually("the room encrypted", timeout = 30.seconds, read = { alice.room(roomId).isEncrypted }) { it }
            val secrets = (0 until 5).map { "secret history $it" }
            for (body in secrets) alice.sendText(roomId, body)

            val key = alice.enableRecovery(null)
            assertTrue(key.isNotBlank() && key.trim() == key, "a recovery key")
            assertEquals(RecoveryState.ENABLED, alice.recoveryState())
            eventually("ENABLED through the flow", read = { states.seen.lastOrNull() }) { it == RecoveryState.ENABLED }

            val report = alice.logout(wipe, null)
            assertEquals(true, report.keysBackedUp, "every room key in the backup: $report")
            assertTrue(report.dataWiped, "data wiped: $report")
            assertEquals(0u, report.storeFilesOpenAfter, "store files open after the logout: $report")
            states.assertCompletes("recoveryStates()")
            assertEquals(RecoveryState.DISABLED, states.seen.first())
            assertEquals(RecoveryState.ENABLED, states.seen.last(), "states seen: ${states.seen}")

            // A new device: the room is there, its history does not decrypt without the key.
            val next = device(user, "second").also { again = it }
            eventually("the room on the new device", timeout = 30.seconds, read = { next.rooms().map { it.roomId } }) {
                roomId in it
            }
            val before = next.bodies(roomId)
            assertTrue(before.none { it in secrets }, "decrypted without the key: $before")

            assertFailsWith<CoreException.InvalidArgument> { next.recover(WRONG_KEY) }
            assertNotEquals(RecoveryState.ENABLED, next.recoveryState(), "a wrong key enabled recovery")

            next.recover(key)
            withTimeout(30.seconds) { next.recoveryStates().first { it == RecoveryState.ENABLED } }
            val after = eventually("every message decrypted", timeout = 60.seconds, read = { next.bodies(roomId) }) {
                it.containsAll(secrets)
            }
            assertEquals(secrets, after.filter { it in secrets }, "the history in order")

            val last = next.logout(wipe, null)
            assertEquals(0u, last.storeFilesOpenAfter, "store files open after the logout: $last")
            // A flow on the ended client completes at once, empty.
            assertEquals(emptyList(), withTimeoutOrNull(5.seconds) { next.recoveryStates().toList() })
        } finally {
            alice.destroy()
            again?.destroy()
        }
    }

    /** Two devices of one user, both syncing; A is cross-signed, B is not yet. */
    private suspend fun pair(): Triple<Client, Client, TestUser> {
        val user = registerUser()
        val a = device(user, "A")
        try {
            a.bootstrapCrossSigning(user.password)
            eventually("A cross-signed", timeout = 30.seconds, read = { a.isVerified() }) { it }
            return Triple(a, device(user, "B"), user)
        } catch (e: Throwable) {
            a.destroy()
            throw e
        }
    }

    private fun List<VerificationState>.emojis(): List<Emoji>? =
        firstNotNullOfOrNull { (it as? VerificationState.Emojis)?.emojis }

    @Test
    fun twoDevicesVerifyEachOtherByEmojiThroughTheFlows() = coreTest(240.seconds) {
        awaitNoLiveClients()
        val (a, b, _) = pair()
        val verifications = CopyOnWriteArrayList<Verification>()
        try {
            assertFalse(b.isVerified(), "a new device starts unverified")
            // A: answers the first request, acting on each state of it.
            val onA = async(Dispatchers.Default) {
                val verification = a.verificationRequests().first().also { verifications += it }
                verification.states().onEach { state ->
                    when (state) {
                        is VerificationState.Requested -> verification.accept()
                        is VerificationState.Ready -> verification.startSas()
                        is VerificationState.Emojis -> verification.confirm()
                        else -> {}
                    }
                }.toList()
            }
            // Every request A gets, until A's client ends.
            val requestsOnA = Recorder(this, a.verificationRequests())
            delay(500) // A's flows are registered before B asks
            // B: asks, and confirms the emojis.
            val onB = async(Dispatchers.Default) {
                val verification = b.requestVerification().also { verifications += it }
                verification.states().onEach { state ->
                    if (state is VerificationState.Emojis) verification.confirm()
                }.toList()
            }
            val (seenA, seenB) = withTimeout(90.seconds) { awaitAll(onA, onB) }
            for ((who, seen) in listOf("A" to seenA, "B" to seenB)) {
                assertIs<VerificationState.Requested>(seen.first(), "$who's first state: $seen")
                assertIs<VerificationState.Done>(seen.last(), "$who's last state: $seen")
            }
            val emojis = assertNotNull(seenA.emojis(), "A saw no emojis: $seenA")
            assertEquals(7, emojis.size, "seven emojis: $emojis")
            assertEquals(emojis, seenB.emojis(), "both devices show the same seven emojis")
            assertEquals(emojis.size, emojis.map { it.symbol }.filter { it.isNotBlank() }.size, "every emoji has a symbol")
            eventually("B cross-signed", timeout = 60.seconds, read = { b.isVerified() }) { it }
            assertEquals(1, requestsOnA.seen.size, "A got one request: ${requestsOnA.seen}")
            verifications += requestsOnA.seen

            for (client in listOf(a, b)) {
                assertEquals(0u, client.closeAndDrain().storeFilesOpenAfter, "store files open after close")
            }
            requestsOnA.assertCompletes("verificationRequests()")
            // On the ended client: the flows complete at once, empty; calls fail.
            assertEquals(emptyList(), withTimeoutOrNull(5.seconds) { a.verificationRequests().toList() })
            assertEquals(emptyList(), withTimeoutOrNull(5.seconds) { verifications.first().states().toList() })
            assertFailsWith<CoreException.ClientClosed> { verifications.first().confirm() }
        } finally {
            verifications.forEach { it.destroy() }
            a.destroy()
            b.destroy()
        }
    }

    @Test
    fun aCancelOnOneSideEndsTheStatesFlowOnTheOther() = coreTest(180.seconds) {
        awaitNoLiveClients()
        val (a, b, _) = pair()
        val verifications = CopyOnWriteArrayList<Verification>()
        try {
            val request = async(Dispatchers.Default) { a.verificationRequests().first().also { verifications += it } }
            delay(500) // A's flow is registered before B asks
            val onB = b.requestVerification().also { verifications += it }
            val statesOnB = Recorder(this, onB.states())
            val onA = withTimeout(60.seconds) { request.await() }
            onA.cancel()
            statesOnB.assertCompletes("B's states() after A's cancel", timeout = 30.seconds)
            assertIs<VerificationState.Requested>(statesOnB.seen.first(), "B's states: ${statesOnB.seen}")
            assertIs<VerificationState.Cancelled>(statesOnB.seen.last(), "B's states: ${statesOnB.seen}")
            assertFalse(b.isVerified())
            for (client in listOf(a, b)) {
                assertEquals(0u, client.closeAndDrain().storeFilesOpenAfter, "store files open after close")
            }
        } finally {
            verifications.forEach { it.destroy() }
            a.destroy()
            b.destroy()
        }
    }

    @Test
    fun theSessionFlowReportsATokenTheServerRevokedAndEndsAtClose() = coreTest(120.seconds) {
        awaitNoLiveClients()
        val (client, session) = loggedInClient()
        try {
            val events = Recorder(this, client.sessionEvents())
            startSyncAndAwaitRunning(client)
            // The current session comes first; the test server's tokens outlive
            // the test: no refresh, nothing else yet.
            eventually("the current session", read = { events.seen.toList() }) { it.isNotEmpty() }
            assertEquals(
                listOf<SessionEvent>(SessionEvent.Refreshed(session)),
                events.seen.toList(),
                "events before the revocation",
            )

            revokeOnServer(session.accessToken)
            eventually("the auth error", timeout = 60.seconds, read = { events.seen.toList() }) { seen ->
                seen.any { it is SessionEvent.AuthError }
            }

            client.closeAndDrain()
            events.assertCompletes("sessionEvents()")
            // A refresh may race the revocation and succeed once (the server
            // drops the refresh token a moment after the access token), so a
            // Refreshed may come first; then the error, once however many
            // requests were refused, a hard logout, and nothing after it.
            val seen = events.seen.toList()
            val firstError = seen.indexOfFirst { it is SessionEvent.AuthError }
            assertTrue(firstError >= 0, "events: $seen")
            assertTrue(seen.take(firstError).all { it is SessionEvent.Refreshed }, "events: $seen")
            assertEquals(
                listOf<SessionEvent>(SessionEvent.AuthError(softLogout = false)),
                seen.drop(firstError),
                "a revoked token is one hard logout: $seen",
            )
            assertEquals(emptyList(), withTimeoutOrNull(5.seconds) { client.sessionEvents().toList() })
            val refreshed = SessionEvent.Refreshed(session)
            assertFalse(session.accessToken in refreshed.toString(), "Refreshed.toString() shows the token")
        } finally {
            client.destroy()
        }
    }

    private companion object {
        /** Well-formed (base58, the right length and parity) but not this account's. */
        const val WRONG_KEY = "EsTj 3yST y93F SLpB jJsz eAXc 2XzA ygD3 w69H fGaN TKBj jXEd"
    }
}
