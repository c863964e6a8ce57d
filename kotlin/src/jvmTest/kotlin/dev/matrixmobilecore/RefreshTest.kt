package dev.matrixmobilecore

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeoutOrNull
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

/**
 * Sessions that refresh, on the second Synapse that `cargo xtask test` starts
 * for this (`MMC_REFRESH_HOMESERVER_URL`), whose access tokens expire every
 * `MMC_REFRESH_TOKEN_LIFETIME_S` (5) seconds: a client logs in with a refresh
 * token, syncs and sends through several expiries with no error, every refresh
 * reaches [sessionEvents] as [SessionEvent.Refreshed] with new tokens, and the
 * latest session restores in a new client after its access token expired
 * (`getNotification` with it before is `Auth`: it never refreshes).
 *
 * JVM only: the instrumented Android run has no second Synapse.
 */
class RefreshTest {
    private val url: String by lazy {
        System.getenv("MMC_REFRESH_HOMESERVER_URL")?.takeIf { it.isNotBlank() }
            ?: error("MMC_REFRESH_HOMESERVER_URL is not set: run the tests through `cargo xtask test kotlin`")
    }
    private val lifetimeS = System.getenv("MMC_REFRESH_TOKEN_LIFETIME_S")?.toLongOrNull() ?: 5L

    /** How long the client sends through expiries; `MMC_REFRESH_RUN_SECS` for longer. */
    private val runS = System.getenv("MMC_REFRESH_RUN_SECS")?.toLongOrNull()?.takeIf { it > 0 } ?: 12L

    @Test
    fun aClientSendsThroughTokenExpiriesAndItsLatestSessionRestores() = coreTest((runS + 120).seconds) {
        awaitNoLiveClients()
        val user = registerUser(url)
        val dir = TestEnv.newDataDir()
        val config = testConfig(dir, url)
        val client = Client.create(config)
        var again: Client? = null
        try {
            val first = client.login(user.username, user.password, "kotlin-refresh")
            assertNotNull(first.refreshToken, "login asked for a refresh token and this server gives them")
            val events = CopyOnWriteArrayList<SessionEvent>()
            val collected = async(Dispatchers.Default) { client.sessionEvents().collect { events += it } }
            startSyncAndAwaitRunning(client)
            val roomId = client.createRoom("refresh", emptyList(), false)

            val started = TimeSource.Monotonic.markNow()
            val sent = mutableListOf<String>()
            while (started.elapsedNow() < runS.seconds) {
                val eventId = try {
                    client.sendText(roomId, "message ${sent.size}")
                } catch (e: CoreException) {
                    throw AssertionError("send ${sent.size} failed after ${started.elapsedNow()}: $e", e)
                }
                sent += eventId
                assertNotEquals(SyncState.ERROR, client.syncState(), "sync failed after ${started.elapsedNow()}")
                delay(300.milliseconds)
            }
            // Every message is on the server, in order, with no gap.
            assertEquals(sent, client.recentMessages(roomId, sent.size.toUInt()).map { it.eventId })
            assertNotEquals(SyncState.ERROR, client.syncState())

            // Each refresh reached the flow, the last one is the client's session.
            eventually("the latest refresh in the flow", read = { events.lastOrNull() }) {
                it is SessionEvent.Refreshed && it.session == client.session()
            }
            val seen = events.toList()
            assertTrue(seen.all { it is SessionEvent.Refreshed }, "a token was refused: $seen")
            // The current session (the login's: collected right after it) comes
            // first, then each refresh.
            val sessions = seen.map { (it as SessionEvent.Refreshed).session }.drop(1)
            val minimum = maxOf(1L, runS / lifetimeS - 1)
            assertTrue(sessions.size >= minimum, "${sessions.size} refreshes in $runS s; expected at least $minimum")
            val tokens = (sessions.map { it.accessToken } + first.accessToken).toSet()
            assertEquals(sessions.size + 1, tokens.size, "a refresh repeated an access token")
            for (s in sessions) {
                assertEquals(first.userId to first.deviceId, s.userId to s.deviceId)
                assertNotNull(s.refreshToken, "a refreshed session without a refresh token")
            }

            val latest = sessions.last()
            assertEquals(0u, client.closeAndDrain().storeFilesOpenAfter, "store files open after close")
            assertNotNull(withTimeoutOrNull(15.seconds) { collected.await() }, "sessionEvents() did not complete at close")

            // The latest session restores once its access token has expired: its
            // refresh token carries it on.
            delay((lifetimeS + 1).seconds)
            // A push handler never refreshes (the rotation would log the app out
            // behind its back): with the access token expired it gets Auth, and
            // the refresh token stays the app's, as the restore below shows.
            assertFailsWith<CoreException.Auth> { getNotification(config, latest, roomId, sent.last()) }
            again = Client.create(config)
            again.restore(latest)
            again.sendText(roomId, "after restore")
            assertNotEquals(latest.accessToken, again.session()?.accessToken, "the expired token was not refreshed")
            assertEquals(0u, again.logout(LogoutOptions(), null).storeFilesOpenAfter, "store files open after logout")
        } finally {
            again?.destroy()
            client.destroy()
            dir.deleteRecursively()
        }
    }

    /**
     * The app's keystore, as a file (written to a temporary file and moved over the last): the
     * first [failFirst] saves throw as a full disk would.
     */
    private class FileStore(private val file: java.io.File, private val failFirst: Int) : SessionStore {
        val calls = java.util.concurrent.atomic.AtomicInteger()
        val threads = CopyOnWriteArrayList<Thread>()

        override fun save(session: Session) {
            threads += Thread.currentThread()
            if (calls.incrementAndGet() <= failFirst) throw java.io.IOException("disk full")
            val tmp = java.io.File(file.path + ".tmp")
            tmp.writeText(
                listOf(session.userId, session.deviceId, session.accessToken, session.refreshToken.orEmpty(), session.homeserverUrl)
                    .joinToString("\n"),
            )
            java.nio.file.Files.move(tmp.toPath(), file.toPath(), java.nio.file.StandardCopyOption.ATOMIC_MOVE)
        }

        override fun load(): Session? {
            if (!file.exists()) return null
            val (userId, deviceId, access, refresh, url) = file.readText().split("\n")
            return Session(userId, deviceId, access, refresh.ifEmpty { null }, url)
        }
    }

    @Test
    fun aSessionStoreSavesEachRefreshWithNoListenerAndIsAskedAgainAfterAFailure() = coreTest(120.seconds) {
        awaitNoLiveClients()
        val user = registerUser(url)
        val dir = TestEnv.newDataDir()
        val config = testConfig(dir, url)
        val client = Client.create(config)
        val store = FileStore(java.io.File(dir.parentFile, "${dir.name}.session"), failFirst = 1)
        var again: Client? = null
        try {
            client.setSessionStore(store)
            val first = client.login(user.username, user.password, "kotlin-store")
            assertFailsWith<CoreException.InvalidState> { client.setSessionStore(store) }
            startSyncAndAwaitRunning(client)
            val roomId = client.createRoom("store", emptyList(), false)
            // No listener: the refreshes reach the store alone; the first save
            // throws and the next refresh offers the session again.
            val started = TimeSource.Monotonic.markNow()
            while (store.load() == null || store.load() != client.session()) {
                assertTrue(started.elapsedNow() < 40.seconds, "the store never held the current session (${store.calls} saves)")
                client.sendText(roomId, "keep going")
                delay(300.milliseconds)
            }
            assertTrue(store.calls.get() >= 2, "saves: ${store.calls}")
            assertNotEquals(first.accessToken, store.load()?.accessToken)
            // A core thread, never the app's (this test's).
            assertTrue(Thread.currentThread() !in store.threads, "saved on the app's thread")
            assertEquals(0u, client.closeAndDrain().storeFilesOpenAfter)

            again = Client.create(config)
            again.restore(assertNotNull(store.load()))
            again.sendText(roomId, "after restore")
            assertEquals(0u, again.logout(LogoutOptions(), null).storeFilesOpenAfter)
        } finally {
            again?.destroy()
            client.destroy()
            dir.deleteRecursively()
        }
    }
}
