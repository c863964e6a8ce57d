package dev.matrixmobilecore

import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import java.io.File
import java.util.concurrent.atomic.AtomicReference
import kotlin.test.Test
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/**
 * Avatars and the server's thumbnails from Kotlin (the Rust test
 * `core/tests/media/avatars.rs`): a room's avatar on its summary, a sender's
 * on his messages, [mediaSourceFromUrl] for an avatar URL from elsewhere, and
 * `downloadThumbnail` (authenticated media, then kept in the media store: the
 * same size again needs no server, which the test proves by killing the
 * [TcpProxy] alice reaches Synapse through). JVM only: the image is read from
 * the repository.
 */
class AvatarTest {
    private fun TimelineItem.event() = kind as? TimelineItemKind.Event
    private fun TimelineItem.body(): String? = (event()?.content as? MessageContent.Text)?.body

    /** The message whose body is [body], if it is there. */
    private fun List<TimelineItem>.withBody(body: String) = firstNotNullOfOrNull { item -> item.event()?.takeIf { item.body() == body } }

    /** The first bytes of a PNG or a JPEG file. */
    private fun ByteArray.isImage(): Boolean {
        val png = byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte())
        val jpeg = byteArrayOf(0xff.toByte(), 0xd8.toByte(), 0xff.toByte())
        fun startsWith(magic: ByteArray) = size >= magic.size && magic.indices.all { this[it] == magic[it] }
        return startsWith(png) || startsWith(jpeg)
    }

    @Test
    fun avatarsReachSummariesAndMessagesAndTheirThumbnailsDownloadOnce() = coreTest(150.seconds) {
        awaitNoLiveClients()
        // A 64 x 64 PNG, which Synapse can scale (Maven runs in kotlin/).
        val avatarPng = File("../core/tests/support/avatar.png").readBytes()
        TcpProxy(TestEnv.homeserverUrl).use { proxy ->
            val aliceConfig = testConfig(homeserverUrl = proxy.url)
            val (alice, aliceSession) = loggedInClient(aliceConfig)
            val (bob, bobSession) = loggedInClient()
            val dir = TestEnv.newDataDir()
            val timelines = mutableListOf<Timeline>()
            var collecting: Deferred<Unit>? = null
            try {
                val roomId = alice.createRoom("faces", emptyList(), false)
                startSyncAndAwaitRunning(alice)

                // An unencrypted image, uploaded through the core, gives the mxc URL.
                val timeline = alice.timeline(roomId).also { timelines += it }
                val latest = AtomicReference<List<TimelineItem>>(emptyList())
                collecting = async(Dispatchers.Default) { timeline.items().collect { latest.set(it) } }
                val png = File(dir, "face.png").apply { writeBytes(avatarPng) }
                timeline.sendMedia(png.absolutePath, UploadInfo(width = 64u, height = 64u), null)
                val uploaded = eventually("the avatar's upload", timeout = 60.seconds, read = {
                    latest.get().firstNotNullOfOrNull { item ->
                        val event = item.event() ?: return@firstNotNullOfOrNull null
                        (event.content as? MessageContent.Media)?.source?.takeIf { event.eventId != null }
                    }
                }) { it != null }!!
                assertFalse(uploaded.encrypted, "a file in an unencrypted room is not encrypted: $uploaded")
                val mxc = uploaded.url

                // The same URL from elsewhere (a profile, a push): the same source.
                val fromUrl = mediaSourceFromUrl(mxc)
                assertEquals(mxc, fromUrl.url)
                assertFalse(fromUrl.encrypted)
                for (bad in listOf("", "https://example.org/a.png", "mxc://", "mxc://server")) {
                    assertFailsWith<CoreException.InvalidArgument>("mediaSourceFromUrl(\"$bad\")") { mediaSourceFromUrl(bad) }
                }

                // The room's avatar, on its summary.
                onServer(
                    "PUT",
                    "/_matrix/client/v3/rooms/${escaped(roomId)}/state/m.room.avatar",
                    """{"url":"$mxc"}""",
                    aliceSession.accessToken,
                )
                val avatar = eventually("the room's avatar on its summary", timeout = 30.seconds, read = { alice.room(roomId).avatar }) {
                    it?.url == mxc
                }!!
                assertEquals(fromUrl, avatar)

                // A sender's avatar, on his messages: bob's profile has one
                // before he joins, so his membership carries it.
                onServer(
                    "PUT",
                    "/_matrix/client/v3/profile/${escaped(bobSession.userId)}/avatar_url",
                    """{"avatar_url":"$mxc"}""",
                    bobSession.accessToken,
                )
                alice.invite(roomId, bobSession.userId)
                bob.startSync()
                eventually("bob's invite", timeout = 30.seconds, read = { runCatching { bob.room(roomId) }.getOrNull() }) { it != null }
                bob.joinRoom(roomId)
                val bobTimeline = bob.timeline(roomId).also { timelines += it }
                bobTimeline.sendText("look at me", null)
                timeline.sendText("no avatar here", null)
                eventually("bob's avatar on his message", timeout = 30.seconds, read = { latest.get().withBody("look at me") }) {
                    it?.senderAvatar?.url == mxc
                }
                val own = eventually("alice's own message", read = { latest.get().withBody("no avatar here") }) { it != null }!!
                assertNull(own.senderAvatar, "${aliceSession.userId} set no avatar: $own")

                // The server's thumbnail, then the same from the media store
                // with the server gone (its open connections cut too).
                val dest = File(dir, "thumb-32")
                val size = alice.downloadThumbnail(avatar, 32u, 32u, dest.absolutePath)
                val bytes = dest.readBytes()
                assertEquals(bytes.size.toULong(), size)
                assertTrue(size > 0u && bytes.isImage(), "not an image: ${bytes.take(8)}")
                proxy.die()
                delay(300)
                val again = File(dir, "thumb-32-again")
                assertEquals(size, alice.downloadThumbnail(avatar, 32u, 32u, again.absolutePath), "the thumbnail from the media store")
                assertContentEquals(bytes, again.readBytes())
                // A size never asked for needs the server.
                assertFailsWith<CoreException.Network>("a 96 x 96 thumbnail without the server") {
                    alice.downloadThumbnail(avatar, 96u, 96u, File(dir, "thumb-96").absolutePath)
                }

                // Bad input, typed: no size, too large a size, no such folder.
                val okDest = File(dir, "t").absolutePath
                for ((w, h, to) in listOf(Triple(0u, 32u, okDest), Triple(32u, 4096u, okDest), Triple(32u, 32u, "/no/such/dir/t"))) {
                    assertFailsWith<CoreException.InvalidArgument>("$w x $h to $to") { alice.downloadThumbnail(avatar, w, h, to) }
                }

                collecting?.cancel()
                // Alice's server is gone: her logout ends locally.
                alice.logout(LogoutOptions(serverTimeoutMs = 2_000u), null)
                bob.logout(LogoutOptions(), null)
            } finally {
                collecting?.cancel()
                timelines.forEach { it.destroy() }
                alice.destroy()
                bob.destroy()
                dir.deleteRecursively()
                File(aliceConfig.dataDir).deleteRecursively()
            }
        }
    }
}
