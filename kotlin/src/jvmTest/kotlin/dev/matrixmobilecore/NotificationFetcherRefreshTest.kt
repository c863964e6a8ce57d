package dev.matrixmobilecore

import kotlinx.coroutines.delay
import java.io.File
import java.util.UUID
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/**
 * `notificationFetcher` on the second Synapse of `cargo xtask test`
 * (`MMC_REFRESH_HOMESERVER_URL`), whose access tokens expire every
 * `MMC_REFRESH_TOKEN_LIFETIME_S` (5) seconds, with the session kept in a file
 * ([FileSessionStore], standing in for the Keystore entry an app shares with
 * its push handler).
 *
 * Alice's client keeps its refreshes in the file; once an encrypted room with
 * bob is set up she closes (her stores stay), and her access token expires.
 * Bob sends two messages; a fetcher in this process (no client of this
 * process holds alice's data_dir, so it opens its own short-lived client)
 * reads both, decrypted: it renewed the token through the store, which now
 * holds new access and refresh tokens. Its `closeAndReport()` keeps the
 * drain's promises; a second one and a `get` after it are `ClientClosed`.
 * Alice then takes up the session the fetcher saved, on the same stores, and
 * goes on receiving.
 *
 * JVM only: the instrumented Android run has no second Synapse.
 */
class NotificationFetcherRefreshTest {
    private val url: String by lazy {
        System.getenv("MMC_REFRESH_HOMESERVER_URL")?.takeIf { it.isNotBlank() }
            ?: error("MMC_REFRESH_HOMESERVER_URL is not set: run the tests through `cargo xtask test kotlin`")
    }
    private val lifetimeS = System.getenv("MMC_REFRESH_TOKEN_LIFETIME_S")?.toLongOrNull() ?: 5L

    @Test
    fun aFetcherRefreshesThroughTheStoreAndTheAppTakesTheSavedSessionUp() = coreTest(240.seconds) {
        awaitNoLiveClients()
        val (aliceUser, bobUser) = registerUser(url) to registerUser(url)
        val (aliceDir, bobDir) = TestEnv.newDataDir() to TestEnv.newDataDir()
        val aliceConfig = testConfig(aliceDir, url)
        val store = FileSessionStore(File(aliceDir.parentFile, "${aliceDir.name}.session"))
        val alice = Client.create(aliceConfig)
        val bob = Client.create(testConfig(bobDir, url))
        var fetcher: NotificationFetcher? = null
        var again: Client? = null
        try {
            alice.setSessionStore(store)
            val login = alice.login(aliceUser.username, aliceUser.password, "kotlin-fetcher")
            assertNotNull(login.refreshToken, "login asked for a refresh token and this server gives them")
            store.save(login)
            val bobSession = bob.login(bobUser.username, bobUser.password, "kotlin-fetcher-bob")
            val roomId = encryptedRoomOfTwo(alice, bob, bobSession.userId)

            // The app goes away with its stores kept; the file holds its
            // latest session (its client saved each refresh there).
            assertEquals(0u, alice.closeAndDrain().storeFilesOpenAfter, "alice's store files open after close")
            val closedWith = assertNotNull(store.load(), "the file lost the session")
            assertEquals(login.userId to login.deviceId, closedWith.userId to closedWith.deviceId)
            // Past the access token's lifetime.
            delay((lifetimeS + 1).seconds)
            val bodies = (0 until 2).map { "later $it ${UUID.randomUUID()}" }
            val events = bodies.map { bob.sendText(roomId, it) }

            val opened = notificationFetcher(aliceConfig, store).also { fetcher = it }
            val items = events.map { opened.get(roomId, it) }
            assertEquals(bodies, items.map { it?.body }, "the bodies read: $items")
            for (item in items) {
                assertEquals(bobSession.userId, item?.sender, "$item")
                assertEquals(roomId, item?.roomId, "$item")
                assertEquals(true, item?.isEncrypted, "the room is encrypted: $item")
            }
            assertFailsWith<CoreException.InvalidArgument>("a bad room id") { opened.get("not a room", events[0]) }
            // It renewed the expired token through the store, saved before use.
            val saved = assertNotNull(store.load(), "the file lost the session")
            assertEquals(closedWith.userId to closedWith.deviceId, saved.userId to saved.deviceId)
            assertNotEquals(closedWith.accessToken, saved.accessToken, "the fetcher did not refresh")
            assertNotEquals(closedWith.refreshToken, saved.refreshToken, "the fetcher did not save the refresh")
            assertNotNull(saved.refreshToken, "a refreshed session without a refresh token")

            val report = opened.closeAndReport()
            assertTrue(report.clientDropped, "the fetcher's client was not dropped: $report")
            assertEquals(0u, report.storeFilesOpenAfter, "store files open after the fetcher's close: $report")
            assertEquals(0u, report.tasksLeftBehind, "tasks left behind: $report")
            assertFailsWith<CoreException.ClientClosed>("a second close") { opened.closeAndReport() }
            assertFailsWith<CoreException.ClientClosed>("a get after close") { opened.get(roomId, events[0]) }

            // The fetcher spent the app's refresh token: the app takes up the
            // session the store keeps, on the same stores, and goes on.
            val restored = Client.create(aliceConfig).also { again = it }
            restored.setSessionStore(store)
            restored.restore(assertNotNull(store.load()))
            startSyncAndAwaitRunning(restored)
            awaitMessage(restored, roomId, bodies[1])
            val after = "still here ${UUID.randomUUID()}"
            bob.sendText(roomId, after)
            awaitMessage(restored, roomId, after)
            assertNotEquals(SyncState.ERROR, restored.syncState(), "alice's sync after taking the session up")

            assertEquals(0u, restored.logout(LogoutOptions(), null).storeFilesOpenAfter, "alice's store files after logout")
            assertEquals(0u, bob.logout(LogoutOptions(), null).storeFilesOpenAfter, "bob's store files after logout")
        } finally {
            fetcher?.destroy()
            again?.destroy()
            alice.destroy()
            bob.destroy()
            aliceDir.deleteRecursively()
            bobDir.deleteRecursively()
            store.file.delete()
        }
    }
}
