package dev.matrixmobilecore

import java.io.File
import java.io.IOException
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith

/**
 * `notificationFetcher` refuses bad input with a typed [CoreException] and
 * opens nothing: a store that keeps no session is `InvalidState`, a store whose
 * `load` throws (an [IOException], as a locked Keystore would) is `Storage`, a
 * config with an `ftp://` homeserver is `InvalidArgument`, and a session whose
 * stores are not in the data_dir is `InvalidState`. The fetcher against a
 * Synapse whose tokens expire is `NotificationFetcherRefreshTest` (JVM only).
 */
class NotificationFetcherTest {
    /** A store whose Keystore is locked: both calls throw. */
    private class LockedStore : SessionStore {
        override fun save(session: Session) = throw IOException("locked")
        override fun load(): Session? = throw IOException("locked")
    }

    @Test
    fun badInputToAFetcherIsATypedErrorAndOpensNothing() = coreTest {
        awaitNoLiveClients()
        val dir = TestEnv.newDataDir()
        try {
            val config = testConfig(dir)
            val nothingSaved = FileSessionStore(File(dir.parentFile, "${dir.name}.none.session"))
            assertFailsWith<CoreException.InvalidState>("a store that keeps no session") {
                notificationFetcher(config, nothingSaved)
            }
            assertFailsWith<CoreException.Storage>("a store whose load throws") {
                notificationFetcher(config, LockedStore())
            }
            assertFailsWith<CoreException.InvalidArgument>("an ftp:// homeserver") {
                notificationFetcher(config.copy(homeserverUrl = "ftp://nowhere"), nothingSaved)
            }
            // A session kept, but the data_dir holds no stores of it.
            val stranger = FileSessionStore(File(dir.parentFile, "${dir.name}.stranger.session"))
            stranger.save(Session("@nobody:localhost", "NODEVICE", "token", null, TestEnv.homeserverUrl))
            assertFailsWith<CoreException.InvalidState>("a session whose stores are not in the data_dir") {
                notificationFetcher(config, stranger)
            }
            stranger.file.delete()
            assertEquals(0u, runtimeStats().liveClients, "a refused fetcher left a client")
        } finally {
            dir.deleteRecursively()
        }
    }
}
