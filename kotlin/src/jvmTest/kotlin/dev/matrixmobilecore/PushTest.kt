package dev.matrixmobilecore

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
    @Test
    fun aPusherGetsAnotherUsersMessageUntilItIsRemoved() = coreTest(timeout = 120.seconds) {
        PushGateway().use { gateway ->
            val (alice, _) = loggedInClient()
            val (bob, bobSession) = loggedInClient()
            try {
                alice.setPusher(testPusher(gateway.url, "kt-pushkey-1"))
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
                alice.setPusher(testPusher(gateway.url, "kt-pushkey-2"))
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
                testPusher("ftp://127.0.0.1$NOTIFY_PATH", "k"),
                testPusher("not a url", "k"),
                testPusher("http://127.0.0.1:9/elsewhere", "k"),
                testPusher(good, ""),
                testPusher(good, "k".repeat(513)),
                testPusher(good, "k").copy(appId = ""),
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

    @Test
    fun anEventIdOnlyPusherCarriesNoContentAndReadsBack() = coreTest(timeout = 120.seconds) {
        PushGateway().use { gateway ->
            val (alice, _) = loggedInClient()
            val (bob, bobSession) = loggedInClient()
            try {
                val config = testPusher(gateway.url, "kt-ios").copy(
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
