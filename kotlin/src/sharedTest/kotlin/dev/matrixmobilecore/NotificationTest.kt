package dev.matrixmobilecore

import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import java.util.UUID
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/**
 * `getNotification` in this process against the real Synapse, as a push
 * handler that runs in the app's own process meets it (Android's
 * `FirebaseMessagingService` does): while the app's client is live on the
 * data_dir, that client answers, decrypted, and no second client opens the
 * stores, and it shows the push while it is paused (left paused);
 * `InvalidState` for another session; once the
 * client is closed with its stores kept, the encrypted message decrypts from
 * those stores, three calls at once each get it; an event the server does not
 * know is `NotFound`; bad input is `InvalidArgument`, a data_dir without
 * stores `InvalidState`. The call from another process while the app syncs is
 * `NotificationProcessTest` (JVM only).
 */
class NotificationTest {
    @Test
    fun theLiveClientAnswersInItsProcessAndAClosedClientsStoresServeTheDecryptedMessage() = coreTest(180.seconds) {
        awaitNoLiveClients()
        val config = testConfig()
        val (alice, aliceSession) = loggedInClient(config)
        val (bob, bobSession) = loggedInClient()
        var again: Client? = null
        try {
            val roomId = encryptedRoomOfTwo(alice, bob, bobSession.userId)
            val body = "for your eyes only ${UUID.randomUUID()}"
            val eventId = bob.sendText(roomId, body)
            awaitMessage(alice, roomId, body)

            // The app's client holds the stores in this process: it answers,
            // and no second client opens them.
            val live = assertNotNull(getNotification(config, aliceSession, roomId, eventId), "no item from the live client")
            assertItem(live, body, bobSession.userId, roomId, eventId)
            assertEquals(2u, runtimeStats().liveClients, "a second client opened the stores")
            // Not for another session.
            assertFailsWith<CoreException.InvalidState> { getNotification(config, bobSession, roomId, eventId) }
            // Paused (in the background, its stores closed), it still shows the
            // push, and stays paused.
            alice.pause()
            val paused = assertNotNull(getNotification(config, aliceSession, roomId, eventId), "no item while paused")
            assertItem(paused, body, bobSession.userId, roomId, eventId)
            assertFailsWith<CoreException.InvalidState>("left paused") { alice.recentMessages(roomId, 5u) }
            alice.resume()

            assertEquals(0u, alice.closeAndDrain().storeFilesOpenAfter, "alice's store files open after close")
            val item = assertNotNull(getNotification(config, aliceSession, roomId, eventId), "no item for bob's message")
            assertItem(item, body, bobSession.userId, roomId, eventId)
            // Its short-lived client is gone again: bob's is the only one.
            assertEquals(1u, runtimeStats().liveClients)
            // Several pushes at once take turns on the stores: each gets its answer.
            val together = (1..3).map { async { getNotification(config, aliceSession, roomId, eventId) } }.awaitAll()
            together.forEach { assertEquals(body, it?.body, "a call at once: $it") }

            val unknown = "\$" + UUID.randomUUID().toString().replace("-", "")
            assertFailsWith<CoreException.NotFound> { getNotification(config, aliceSession, roomId, unknown) }

            // The stores are the app's again: alice restores and still reads the message.
            again = Client.create(config)
            again.restore(aliceSession)
            assertTrue(body in again.recentMessages(roomId, 20u).map { it.body }, "the message after restore")
            assertEquals(0u, again.logout(LogoutOptions(), null).storeFilesOpenAfter)
            assertEquals(0u, bob.logout(LogoutOptions(), null).storeFilesOpenAfter)
        } finally {
            again?.destroy()
            alice.destroy()
            bob.destroy()
        }
    }

    @Test
    fun badInputIsInvalidArgumentAndADataDirWithoutStoresIsInvalidState() = coreTest {
        val config = testConfig()
        val session = Session(
            userId = "@someone:localhost",
            deviceId = "DEVICE",
            accessToken = "token",
            refreshToken = null,
            homeserverUrl = TestEnv.homeserverUrl,
        )
        for ((room, event) in listOf("" to "\$e", "not a room" to "\$e", "!r:localhost" to "no sigil")) {
            assertFailsWith<CoreException.InvalidArgument>("room `$room`, event `$event`") {
                getNotification(config, session, room, event)
            }
        }
        assertFailsWith<CoreException.InvalidArgument>("a relative data_dir") {
            getNotification(config.copy(dataDir = "relative/dir"), session, "!r:localhost", "\$e")
        }
        assertFailsWith<CoreException.InvalidArgument>("an empty user id") {
            getNotification(config, session.copy(userId = ""), "!r:localhost", "\$e")
        }
        // Well-formed, but the directory holds no stores of this session.
        assertFailsWith<CoreException.InvalidState> { getNotification(config, session, "!r:localhost", "\$e") }
        assertEquals(0u, runtimeStats().liveClients, "a refused call left a client")
    }
}

private fun assertItem(item: NotificationItem, body: String, sender: String, roomId: String, eventId: String) {
    assertEquals(body, item.body, "the body did not decrypt: $item")
    assertEquals(sender, item.sender)
    assertEquals(roomId, item.roomId)
    assertEquals(eventId, item.eventId)
    assertEquals(NotificationKind.Message, item.kind, "$item")
    assertFalse(item.isDm || item.hasMention, "a group room, no mention: $item")
    assertTrue(item.isEncrypted, "the room is encrypted: $item")
    assertTrue(item.timestampMs > 0u, "no timestamp: $item")
}

/** Creates an encrypted room of [alice] with [bob] joined, both syncing; returns its id. */
suspend fun encryptedRoomOfTwo(alice: Client, bob: Client, bobUserId: String): String {
    val roomId = alice.createRoom("notified", listOf(bobUserId), true)
    startSyncAndAwaitRunning(bob)
    eventually("bob's invite", timeout = 30.seconds, read = { runCatching { bob.room(roomId) }.getOrNull() }) { it != null }
    bob.joinRoom(roomId)
    startSyncAndAwaitRunning(alice)
    eventually("bob in the room, for alice", timeout = 30.seconds, read = { alice.room(roomId).joinedMembers }) { it == 2uL }
    eventually("the room encrypted, for bob", timeout = 30.seconds, read = { bob.room(roomId).isEncrypted }) { it }
    return roomId
}

/** Waits until [client] has decrypted a message with [body] in [roomId]. */
suspend fun awaitMessage(client: Client, roomId: String, body: String) {
    eventually("`$body` received", timeout = 30.seconds, read = { client.recentMessages(roomId, 20u).map { it.body } }) { body in it }
}
