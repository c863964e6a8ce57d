package dev.matrixmobilecore

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/** Listeners and the flows built on them. */
class ListenerTest {
    @Test
    fun throwingListenersDoNotStopSyncOrLaterCalls() = coreTest {
        val (client, _) = loggedInClient()
        client.closing {
            val stateCalls = AtomicInteger()
            val messageCalls = AtomicInteger()
            val badStates = client.observeSyncState(object : SyncStateListener {
                override fun onState(state: SyncState) {
                    stateCalls.incrementAndGet()
                    throw IllegalStateException("listener failure on purpose")
                }
            })
            val badMessages = client.observeMessages(object : MessageListener {
                override fun onMessage(message: Message) {
                    messageCalls.incrementAndGet()
                    throw RuntimeException("listener failure on purpose")
                }

                override fun onClosed() {
                    throw RuntimeException("end signal failure on purpose")
                }
            })
            client.startSync()
            withTimeout(30_000) { client.syncStates().first { it == SyncState.RUNNING } }

            val roomId = client.createRoom("throwing listeners", emptyList(), false)
            // One message per sync: sliding sync may hand over only the latest
            // event of a room when several arrive together.
            for (body in listOf("first", "second")) {
                val received = async(start = CoroutineStart.UNDISPATCHED) {
                    client.messages().first { it.roomId == roomId && it.body == body }
                }
                client.sendText(roomId, body)
                assertEquals(body, withTimeout(30_000) { received.await() }.body)
            }

            assertTrue(stateCalls.get() >= 1, "the throwing state listener was called")
            eventually<Int>("throwing message listener called", read = { messageCalls.get() }) { it >= 2 }
            assertEquals(SyncState.RUNNING, client.syncState())
            assertTrue(client.recentMessages(roomId, 10u).any { it.body == "second" })
            badStates.cancel()
            badMessages.cancel()
        }
    }

    @Test
    fun aCancelledSubscriptionDeliversNothingMore() = coreTest {
        val (client, _) = loggedInClient()
        client.closing {
            startSyncAndAwaitRunning(client)
            val roomId = client.createRoom("cancelled subscription", emptyList(), false)

            val cancelledCalls = AtomicInteger()
            val cancelled = client.observeMessages(object : MessageListener {
                override fun onMessage(message: Message) {
                    cancelledCalls.incrementAndGet()
                }

                override fun onClosed() {
                    cancelledCalls.incrementAndGet()
                }
            })
            cancelled.cancel()
            val control = async(start = CoroutineStart.UNDISPATCHED) {
                client.messages().first { it.roomId == roomId && it.body == "after cancel" }
            }
            client.sendText(roomId, "after cancel")
            withTimeout(30_000) { control.await() }
            assertEquals(0, cancelledCalls.get(), "a cancelled subscription received messages")
            cancelled.destroy()
        }
    }

    /** Nobody observes the sync state here: `syncState()` alone must still follow the sync service. */
    @Test
    fun syncStateReachesRunningWithoutAnyObserver() = coreTest {
        val (client, _) = loggedInClient()
        client.closing {
            client.startSync()
            eventually<SyncState>("syncState() after startSync()", timeout = 30.seconds, read = { client.syncState() }) {
                it == SyncState.RUNNING
            }
        }
    }

    /** Subscribing after the sync is running still delivers the current state first. */
    @Test
    fun syncStatesObservedAfterStartBeginWithRunning() = coreTest {
        val (client, _) = loggedInClient()
        client.closing {
            startSyncAndAwaitRunning(client)
            assertEquals(SyncState.RUNNING, withTimeout(5_000) { client.syncStates().first() })
        }
    }

    @Test
    fun syncStatesStartsWithTheCurrentState() = coreTest {
        Client.create(testConfig()).closing { client ->
            assertEquals(client.syncState(), client.syncStates().first())
        }
    }
}
