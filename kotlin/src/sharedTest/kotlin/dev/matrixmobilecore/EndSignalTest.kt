package dev.matrixmobilecore

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeout
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/**
 * Every subscription ends: the listener's last call is the end signal
 * (`onClosed()`, `onState(TERMINATED)`), the flows complete on it, and
 * observing a client that is closing or closed throws `ClientClosed`.
 */
class EndSignalTest {
    /** How long an end signal may take after the call that ended the client returned. */
    private val endSignalBound = 10.seconds

    private class RecordingMessages : MessageListener {
        val calls = CopyOnWriteArrayList<String>()
        override fun onMessage(message: Message) {
            calls += "message:${message.body}"
        }

        override fun onClosed() {
            calls += "closed"
        }
    }

    private class RecordingStates : SyncStateListener {
        val states = CopyOnWriteArrayList<SyncState>()
        override fun onState(state: SyncState) {
            states += state
        }
    }

    @Test
    fun observingALoggedOutClientThrowsClientClosed() = coreTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        client.logout(LogoutOptions(), null)
        assertFailsWith<CoreException.ClientClosed> { client.observeMessages(RecordingMessages()) }
        assertFailsWith<CoreException.ClientClosed> { client.observeSyncState(RecordingStates()) }
        client.destroy()
    }

    @Test
    fun afterLogoutAMessageListenersLastCallIsOnClosed() = coreTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        val inbox = RecordingMessages()
        val subscription = client.observeMessages(inbox)
        startSyncAndAwaitRunning(client)
        val roomId = client.createRoom("end signal", emptyList(), false)
        client.sendText(roomId, "before the end")
        eventually("the message arrives", timeout = 30.seconds, read = { inbox.calls.toList() }) { "message:before the end" in it }

        client.logout(LogoutOptions(), null)
        eventually("onClosed()", timeout = endSignalBound, read = { inbox.calls.toList() }) { "closed" in it }
        delay(200) // nothing may follow it
        assertEquals("closed", inbox.calls.last())
        assertEquals(1, inbox.calls.count { it == "closed" })
        subscription.destroy()
        client.destroy()
    }

    @Test
    fun afterLogoutASyncStateListenersLastCallIsTerminated() = coreTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        val states = RecordingStates()
        val subscription = client.observeSyncState(states)
        startSyncAndAwaitRunning(client)

        client.logout(LogoutOptions(), null)
        eventually("onState(TERMINATED)", timeout = endSignalBound, read = { states.states.toList() }) { SyncState.TERMINATED in it }
        delay(200)
        assertEquals(SyncState.TERMINATED, states.states.last())
        assertEquals(1, states.states.count { it == SyncState.TERMINATED })
        subscription.destroy()
        client.destroy()
    }

    @Test
    fun syncStatesAndMessagesFlowsCompleteAfterLogout() = coreTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        val states = async(start = CoroutineStart.UNDISPATCHED) { client.syncStates().toList() }
        val messages = async(start = CoroutineStart.UNDISPATCHED) { client.messages().toList() }
        startSyncAndAwaitRunning(client)
        val roomId = client.createRoom("flows end", emptyList(), false)
        client.sendText(roomId, "collected")
        eventually("sync delivered the message", timeout = 30.seconds, read = { client.recentMessages(roomId, 5u) }) { list ->
            list.any { it.body == "collected" }
        }

        client.logout(LogoutOptions(), null)
        // A hang here (a flow that never completes) fails the test instead of blocking it.
        val collectedStates = withTimeout(endSignalBound) { states.await() }
        val collectedMessages = withTimeout(endSignalBound) { messages.await() }
        assertEquals(SyncState.TERMINATED, collectedStates.last())
        assertTrue(SyncState.RUNNING in collectedStates, "states: $collectedStates")
        assertTrue(collectedMessages.all { it.roomId == roomId }, "messages: $collectedMessages")
        client.destroy()
    }

    /** The documented choice: no ClientClosed from the flows; they end as a live client's would. */
    @Test
    fun flowsOnAClosedClientCompleteAtOnceWithoutThrowing() = coreTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        client.close(null)
        assertEquals(listOf(SyncState.TERMINATED), withTimeout(5_000) { client.syncStates().toList() })
        assertEquals(emptyList(), withTimeout(5_000) { client.messages().toList() })
        client.destroy()
    }

    // That the shutdown hook is installed once, and drains the clients a JVM
    // exits with, is ProcessExitTest's (in a JVM of its own: here any earlier
    // call of the layer may have installed it already).
}
