package dev.matrixmobilecore

import com.sun.net.httpserver.HttpServer
import java.net.InetSocketAddress
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/**
 * HTTP pushers from Kotlin against Synapse: with `setPusher`, Synapse posts
 * another user's message to the test's own push gateway; after
 * `removePusher` it posts nothing more to that pushkey; bad input is
 * [CoreException.InvalidArgument]. JVM only: the gateway is the JDK's HTTP
 * server on loopback, which Synapse may reach (the harness allows it).
 */
class PushTest {
    /** A push gateway of the test's own: keeps each body Synapse posts. */
    private class Gateway : AutoCloseable {
        private val server: HttpServer = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
        val posts = CopyOnWriteArrayList<String>()

        init {
            server.createContext(NOTIFY_PATH) { exchange ->
                posts.add(exchange.requestBody.readBytes().decodeToString())
                val answer = """{"rejected":[]}""".toByteArray()
                exchange.responseHeaders.add("Content-Type", "application/json")
                exchange.sendResponseHeaders(200, answer.size.toLong())
                exchange.responseBody.use { it.write(answer) }
            }
            server.start()
        }

        val url: String get() = "http://127.0.0.1:${server.address.port}$NOTIFY_PATH"

        fun postsOf(eventId: String): List<String> = posts.filter { "\"$eventId\"" in it }

        override fun close() = server.stop(0)
    }

    private fun pusher(gatewayUrl: String, pushkey: String) = PusherConfig(
        appId = "org.example.mmc.kotlin",
        pushkey = pushkey,
        gatewayUrl = gatewayUrl,
        deviceName = "kotlin test",
        lang = "en",
    )

    @Test
    fun aPusherGetsAnotherUsersMessageUntilItIsRemoved() = coreTest(timeout = 120.seconds) {
        Gateway().use { gateway ->
            val (alice, _) = loggedInClient()
            val (bob, bobSession) = loggedInClient()
            try {
                alice.setPusher(pusher(gateway.url, "kt-pushkey-1"))
                val room = alice.createRoom("push", listOf(bobSession.userId), false)
                bob.joinRoom(room)

                val first = bob.sendText(room, "wake up")
                val posted = eventually("the push of $first", timeout = 30.seconds, read = { gateway.postsOf(first) }) {
                    it.isNotEmpty()
                }.single()
                assertTrue("\"kt-pushkey-1\"" in posted, posted)
                assertTrue("\"org.example.mmc.kotlin\"" in posted, posted)
                assertTrue("\"${bobSession.userId}\"" in posted, posted)

                alice.removePusher("kt-pushkey-1")
                alice.removePusher("kt-pushkey-1") // none left: not an error
                val between = bob.sendText(room, "no push for this")
                // A pusher set after the removal gets the next message, so
                // the missing push of `between` is not a delay.
                alice.setPusher(pusher(gateway.url, "kt-pushkey-2"))
                val last = bob.sendText(room, "push again")
                val again = eventually("the push of $last", timeout = 30.seconds, read = { gateway.postsOf(last) }) {
                    it.isNotEmpty()
                }.single()
                assertTrue("\"kt-pushkey-2\"" in again, again)
                assertEquals(emptyList(), gateway.postsOf(between), "the message sent after removePusher was pushed")
            } finally {
                alice.close(null)
                bob.close(null)
                alice.destroy()
                bob.destroy()
            }
        }
    }

    @Test
    fun badPusherInputIsInvalidArgument() = coreTest {
        val (client, _) = loggedInClient()
        try {
            val good = "http://127.0.0.1:9$NOTIFY_PATH"
            val cases = listOf(
                pusher("ftp://127.0.0.1$NOTIFY_PATH", "k"),
                pusher("not a url", "k"),
                pusher("http://127.0.0.1:9/elsewhere", "k"),
                pusher(good, ""),
                pusher(good, "k".repeat(513)),
                pusher(good, "k").copy(appId = ""),
            )
            for (case in cases) {
                assertFailsWith<CoreException.InvalidArgument>("$case") { client.setPusher(case) }
            }
            assertFailsWith<CoreException.InvalidArgument> { client.removePusher("") }
        } finally {
            client.close(null)
            client.destroy()
        }
    }

    private companion object {
        const val NOTIFY_PATH = "/_matrix/push/v1/notify"
    }

    @Test
    fun anEventIdOnlyPusherCarriesNoContentAndReadsBack() = coreTest(timeout = 120.seconds) {
        Gateway().use { gateway ->
            val (alice, _) = loggedInClient()
            val (bob, bobSession) = loggedInClient()
            try {
                val config = pusher(gateway.url, "kt-ios").copy(
                    format = PushFormat.EVENT_ID_ONLY,
                    defaultPayloadJson = """{"aps":{"mutable-content":1}}""",
                )
                alice.setPusher(config)
                val read = alice.pushers().single()
                assertEquals(config.copy(defaultPayloadJson = null), read.copy(defaultPayloadJson = null))
                assertEquals("""{"aps":{"mutable-content":1}}""", read.defaultPayloadJson?.replace(" ", ""))

                val room = alice.createRoom("private", listOf(bobSession.userId), false)
                bob.joinRoom(room)
                val secret = bob.sendText(room, "the secret plan")
                val posted = eventually("the push of $secret", timeout = 30.seconds, read = { gateway.postsOf(secret) }) {
                    it.isNotEmpty()
                }.single()
                assertTrue("the secret plan" !in posted, posted)
                assertTrue("mutable-content" in posted, posted)

                alice.removePusher("kt-ios")
                assertEquals(emptyList(), alice.pushers())
                assertFailsWith<CoreException.InvalidArgument> {
                    alice.setPusher(config.copy(defaultPayloadJson = "not json"))
                }
            } finally {
                alice.destroy()
                bob.destroy()
            }
        }
    }
}
