package dev.matrixmobilecore

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.test.fail
import kotlin.time.Duration.Companion.seconds

/**
 * Notification settings from Kotlin against Synapse and the test's own push
 * gateway (the Rust test `core/tests/push/settings.rs`): a muted room's
 * message is not pushed while another room's later one is, a keyword
 * notifies in a room set to mentions and keywords, a room's summary and
 * [roomSummaries] follow its mode, the defaults move (`Mute` is none), and
 * keywords are added, listed and removed. JVM only: the gateway is the JDK's
 * HTTP server ([PushGateway]).
 */
class NotificationSettingsTest {
    @Test
    fun aMutedRoomIsNotPushedWhileAnotherRoomsLaterMessageIs() = coreTest(timeout = 180.seconds) {
        awaitNoLiveClients()
        PushGateway().use { gateway ->
            val (alice, _) = loggedInClient()
            val (bob, bobSession) = loggedInClient()
            try {
                alice.setPusher(testPusher(gateway.url, "kt-pushkey-mute"))
                alice.startSync()
                val bobId = bobSession.userId
                val loud = alice.createRoom("loud", listOf(bobId), false)
                val quiet = alice.createRoom("quiet", listOf(bobId), false)
                bob.joinRoom(loud)
                bob.joinRoom(quiet)
                val modes = CopyOnWriteArrayList<RoomNotificationMode?>()
                val following = async(Dispatchers.Default) { alice.roomSummaries(quiet).collect { modes += it.notificationMode } }
                try {
                    assertEquals(RoomNotificationMode.ALL_MESSAGES, alice.roomNotificationMode(quiet), "the default")
                    assertNull(alice.room(quiet).notificationMode, "no mode of its own yet")
                    eventually("the first summary", read = { modes.toList() }) { it.isNotEmpty() }

                    // Muted: the summary shows it when the call returns, the flow emits it.
                    alice.setRoomNotificationMode(quiet, RoomNotificationMode.MUTE)
                    assertEquals(RoomNotificationMode.MUTE, alice.room(quiet).notificationMode)
                    assertEquals(RoomNotificationMode.MUTE, alice.roomNotificationMode(quiet))
                    eventually("roomSummaries emits the mute", read = { modes.toList() }) {
                        it.lastOrNull() == RoomNotificationMode.MUTE
                    }

                    // The muted room's message is never pushed; the loud room's, sent after it, is.
                    val hushed = bob.sendText(quiet, "shh")
                    val heard = bob.sendText(loud, "hello")
                    eventually("the loud room's push", timeout = 30.seconds, read = { gateway.postsOf(heard) }) { it.isNotEmpty() }
                    assertEquals(emptyList(), gateway.postsOf(hushed), "the muted room's message was pushed")

                    // Mentions and keywords only: a keyword is pushed, a plain message is not.
                    alice.addNotificationKeyword("pineapple")
                    alice.setRoomNotificationMode(quiet, RoomNotificationMode.MENTIONS_AND_KEYWORDS_ONLY)
                    assertEquals(RoomNotificationMode.MENTIONS_AND_KEYWORDS_ONLY, alice.room(quiet).notificationMode)
                    val plain = bob.sendText(quiet, "nothing here")
                    val keyword = bob.sendText(quiet, "a pineapple!")
                    eventually("the keyword's push", timeout = 30.seconds, read = { gateway.postsOf(keyword) }) { it.isNotEmpty() }
                    assertEquals(emptyList(), gateway.postsOf(plain), "a plain message was pushed in a mentions-only room")
                    alice.removeNotificationKeyword("pineapple")

                    // Back to the default: no mode of its own, the flow emits it, pushed again.
                    alice.resetRoomNotificationMode(quiet)
                    assertNull(alice.room(quiet).notificationMode, "the reset")
                    assertEquals(RoomNotificationMode.ALL_MESSAGES, alice.roomNotificationMode(quiet))
                    eventually("roomSummaries emits the reset", read = { modes.toList() }) { it.lastOrNull() == null }
                    val again = bob.sendText(quiet, "back")
                    eventually("the push after the reset", timeout = 30.seconds, read = { gateway.postsOf(again) }) { it.isNotEmpty() }
                    assertTrue(RoomNotificationMode.MENTIONS_AND_KEYWORDS_ONLY in modes, "the flow saw mentions-only: $modes")

                    // Unknown and malformed rooms.
                    assertFailsWith<CoreException.NotFound>("an unknown room") {
                        alice.setRoomNotificationMode("!nowhere:example.org", RoomNotificationMode.MUTE)
                    }
                    assertFailsWith<CoreException.InvalidArgument>("not a room id") { alice.roomNotificationMode("nonsense") }
                } finally {
                    following.cancel()
                }
                alice.logout(LogoutOptions(), null)
                bob.logout(LogoutOptions(), null)
                assertFailsWith<CoreException.ClientClosed>("after logout") { alice.notificationKeywords() }
            } finally {
                alice.destroy()
                bob.destroy()
            }
        }
    }

    /**
     * The keywords the server keeps for the user of [accessToken]: the push
     * rules' ids that are no built-in rule (`.m...`) nor a room's or a
     * sender's (`!...`, `@...`).
     */
    private fun serverKeywords(accessToken: String): List<String> {
        val rules = onServer("GET", "/_matrix/client/v3/pushrules/", accessToken = accessToken)
        return Regex(""""rule_id"\s*:\s*"([^"]*)"""").findAll(rules).map { it.groupValues[1] }
            .filter { it.firstOrNull() !in listOf('.', '!', '@') }.toList().sorted()
    }

    /** Fails unless [client] reads [expected] at once, telling what the server has and what it reads 5 s later. */
    private suspend fun assertKeywords(client: Client, accessToken: String, expected: List<String>, after: String) {
        val now = client.notificationKeywords()
        if (now != expected) {
            val server = serverKeywords(accessToken)
            delay(5_000)
            val later = client.notificationKeywords()
            fail("keywords right after $after: $now, not $expected; the server has $server; 5 s later: $later")
        }
    }

    @Test
    fun keywordsAreAddedListedAndRemoved() = coreTest(timeout = 120.seconds) {
        awaitNoLiveClients()
        val (alice, session) = loggedInClient()
        try {
            // As in an app: sync runs, and brings back each change of the
            // push rules some time after the call that made it.
            alice.startSync()
            assertEquals(emptyList(), alice.notificationKeywords())
            alice.addNotificationKeyword("pineapple")
            alice.addNotificationKeyword("pineapple")
            assertKeywords(alice, session.accessToken, listOf("pineapple"), "adding pineapple twice")
            alice.addNotificationKeyword("apple")
            assertKeywords(alice, session.accessToken, listOf("apple", "pineapple"), "adding apple")
            alice.removeNotificationKeyword("pineapple")
            alice.removeNotificationKeyword("pineapple")
            assertKeywords(alice, session.accessToken, listOf("apple"), "removing pineapple twice")
            alice.removeNotificationKeyword("apple")
            assertKeywords(alice, session.accessToken, emptyList(), "removing apple")
            assertEquals(emptyList(), serverKeywords(session.accessToken), "the server's keywords after the removals")
            // Quick changes, each computed from the rules the one before left:
            // none is lost on the server, and the client reads the last.
            for (round in 1..3) {
                alice.addNotificationKeyword("banana")
                alice.removeNotificationKeyword("banana")
                alice.addNotificationKeyword("banana")
                assertKeywords(alice, session.accessToken, listOf("banana"), "round $round of add, remove, add")
                alice.removeNotificationKeyword("banana")
                assertKeywords(alice, session.accessToken, emptyList(), "round $round's removal")
            }
            eventually("the server's keywords at the end", read = { serverKeywords(session.accessToken) }) { it.isEmpty() }
            assertFailsWith<CoreException.InvalidArgument>("a blank keyword") { alice.addNotificationKeyword("  ") }
            alice.logout(LogoutOptions(), null)
        } finally {
            alice.destroy()
        }
    }

    @Test
    fun defaultsAreReadBackAndMuteIsNoDefault() = coreTest(timeout = 120.seconds) {
        awaitNoLiveClients()
        val (alice, _) = loggedInClient()
        try {
            alice.startSync()
            val group = alice.createRoom("group", emptyList(), false)

            // All messages for both; the groups' default moves alone, and a
            // group room without a mode of its own follows it.
            assertEquals(RoomNotificationMode.ALL_MESSAGES, alice.defaultNotificationMode(false))
            assertEquals(RoomNotificationMode.ALL_MESSAGES, alice.defaultNotificationMode(true))
            alice.setDefaultNotificationMode(false, RoomNotificationMode.MENTIONS_AND_KEYWORDS_ONLY)
            assertEquals(RoomNotificationMode.MENTIONS_AND_KEYWORDS_ONLY, alice.defaultNotificationMode(false))
            assertEquals(RoomNotificationMode.ALL_MESSAGES, alice.defaultNotificationMode(true))
            assertEquals(RoomNotificationMode.MENTIONS_AND_KEYWORDS_ONLY, alice.roomNotificationMode(group), "the group room follows the default")
            assertNull(alice.room(group).notificationMode, "a default is no mode of the room's own")
            alice.setDefaultNotificationMode(false, RoomNotificationMode.ALL_MESSAGES)
            assertEquals(RoomNotificationMode.ALL_MESSAGES, alice.defaultNotificationMode(false))

            // Mute is no default, for either kind of room; nothing changes.
            for (isDirect in listOf(true, false)) {
                assertFailsWith<CoreException.InvalidArgument>("Mute as the default (direct: $isDirect)") {
                    alice.setDefaultNotificationMode(isDirect, RoomNotificationMode.MUTE)
                }
                assertEquals(RoomNotificationMode.ALL_MESSAGES, alice.defaultNotificationMode(isDirect))
            }
            alice.logout(LogoutOptions(), null)
        } finally {
            alice.destroy()
        }
    }
}
