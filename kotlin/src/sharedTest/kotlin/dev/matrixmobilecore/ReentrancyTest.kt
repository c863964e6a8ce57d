package dev.matrixmobilecore

import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.time.Duration.Companion.seconds

// Listeners may call back into the core, block, or throw: the core neither
// deadlocks nor stops (API.md, "Re-entrancy"). The tests that used to deadlock
// run under hangGuardedTest, so that a regression fails instead of hanging.

/** What a listener saw when it called back into the core from its callback. */
private class CoreCallProbe(private val client: Client) {
    val subscription = AtomicReference<Subscription?>()
    val calls = AtomicInteger()
    val callsAfterCancel = AtomicInteger()
    val cancelled = AtomicBoolean()
    val errors = CopyOnWriteArrayList<Throwable>()
    val seen = CopyOnWriteArrayList<Triple<RuntimeState, ClientState, Int>>()

    /** Calls `runtimeStats()`, `state()` and `rooms()`; then, if [cancelNow], `cancel()` on its own subscription. */
    fun callCore(cancelNow: Boolean) {
        calls.incrementAndGet()
        if (cancelled.get()) callsAfterCancel.incrementAndGet()
        try {
            seen += Triple(runtimeStats().state, client.state(), client.rooms().size)
            if (cancelNow) {
                subscription.get()?.let {
                    it.cancel()
                    cancelled.set(true)
                }
            }
        } catch (t: Throwable) {
            errors += t
        }
    }
}

class ListenerReentrancyTest {
    /** Regression: a listener calling `rooms()` or `cancel()` from its callback deadlocked on a lock the core held while delivering. */
    @Test
    fun listenersMayCallRuntimeStatsStateRoomsAndCancelTheirOwnSubscriptionFromACallback() = hangGuardedTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        val roomId = client.createRoom("re-entrant listeners", emptyList(), false)
        val messages = CoreCallProbe(client)
        val states = CoreCallProbe(client)
        val closedCalls = AtomicInteger()
        messages.subscription.set(client.observeMessages(object : MessageListener {
            override fun onMessage(message: Message) = messages.callCore(cancelNow = true)
            override fun onClosed() {
                closedCalls.incrementAndGet()
            }
        }))
        states.subscription.set(client.observeSyncState(object : SyncStateListener {
            override fun onState(state: SyncState) = states.callCore(cancelNow = state == SyncState.RUNNING)
        }))

        client.startSync()
        eventually("the sync-state listener cancelled itself", timeout = 30.seconds, read = { states.cancelled.get() }) { it }
        client.sendText(roomId, "one")
        eventually("the message listener cancelled itself", timeout = 30.seconds, read = { messages.cancelled.get() }) { it }
        client.sendText(roomId, "two") // would show up in callsAfterCancel
        delay(1_000)

        val report = withTimeout(30_000) { client.logout(LogoutOptions(), null) }
        for ((name, probe) in listOf("messages" to messages, "states" to states)) {
            assertEquals(emptyList(), probe.errors.toList(), "$name: calls from the callback failed")
            assertEquals(0, probe.callsAfterCancel.get(), "$name: delivered after its own cancel()")
            assertTrue(probe.seen.all { it.first == RuntimeState.RUNNING && it.second == ClientState.LOGGED_IN }, "$name: ${probe.seen}")
        }
        assertTrue(messages.seen.first().third >= 1, "rooms() inside the callback lists the room")
        assertEquals(0, closedCalls.get(), "a cancelled subscription got the end signal")
        assertEquals(0u, report.storeFilesOpenAfter)
        messages.subscription.get()?.destroy()
        states.subscription.get()?.destroy()
        client.destroy()
    }

    @Test
    fun aListenerBlockingForFiveSecondsDuringLogoutDoesNotHoldUpTheDrain() = hangGuardedTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        val entered = CountDownLatch(1)
        val left = AtomicBoolean()
        val subscription = client.observeMessages(object : MessageListener {
            override fun onMessage(message: Message) {
                entered.countDown()
                Thread.sleep(5_000)
                left.set(true)
            }

            override fun onClosed() {}
        })
        startSyncAndAwaitRunning(client)
        val roomId = client.createRoom("a blocking listener", emptyList(), false)
        client.sendText(roomId, "block on this")
        eventually("the listener is inside its callback", timeout = 30.seconds, read = { entered.count }) { it == 0L }
        assertFalse(left.get())

        // A drain that waited for the listener would take the rest of its 5 s;
        // it waits 1 s for a busy listener at most, then goes on.
        val report = withTimeout(4_000) { client.logout(LogoutOptions(), null) }
        assertFalse(left.get(), "the logout returned only after the listener's block")
        assertIs<ServerLogout.Revoked>(report.serverLogout)
        assertEquals(0u, report.storeFilesOpenAfter)
        assertTrue(report.dataWiped)
        eventually("the listener's call returns", read = { left.get() }) { it }
        awaitNoLiveClients()
        subscription.destroy()
        client.destroy()
    }

    @Test
    fun listenersThrowingInEveryCallbackAndTheEndSignalDoNotBreakLogout() = hangGuardedTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        val messageCalls = AtomicInteger()
        val messagesSub = client.observeMessages(object : MessageListener {
            override fun onMessage(message: Message) {
                messageCalls.incrementAndGet()
                throw IllegalStateException("onMessage fails on purpose")
            }

            override fun onClosed() = throw IllegalStateException("onClosed fails on purpose")
        })
        val statesSub = client.observeSyncState(object : SyncStateListener {
            override fun onState(state: SyncState) = throw IllegalStateException("onState($state) fails on purpose")
        })
        client.startSync()
        val roomId = client.createRoom("throwing listeners", emptyList(), false)
        client.sendText(roomId, "throw on this")
        eventually("the throwing listener is called", timeout = 30.seconds, read = { messageCalls.get() }) { it >= 1 }

        val report = withTimeout(30_000) { client.logout(LogoutOptions(), null) }
        assertIs<ServerLogout.Revoked>(report.serverLogout)
        assertEquals(0u, report.storeFilesOpenAfter)
        assertEquals(0u, runtimeStats().liveClients)
        // The core carries on: a new client logs in and drains cleanly.
        val (next, _) = loggedInClient()
        assertEquals(ClientState.LOGGED_IN, next.state())
        val closed = withTimeout(30_000) { next.closeAndDrain() }
        assertEquals(0u, closed.storeFilesOpenAfter)
        assertTrue(closed.clientDropped, "the last client's matrix Client is dropped: $closed")
        next.destroy()
        messagesSub.destroy()
        statesSub.destroy()
        client.destroy()
    }
}

/** Its own class, so its own JVM: a deadlock here leaves a drain stuck for good. */
class LifecycleListenerReentrancyTest {
    /** Regression: `runtimeStats()` from `onPhase(RESTARTING_RUNTIME)` deadlocked the logout, which never returned. */
    @Test
    fun aLifecycleListenerCallingRuntimeStatsAtEveryPhaseLetsLogoutReturn() = hangGuardedTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        val phases = CopyOnWriteArrayList<LifecyclePhase>()
        val runtimeStates = CopyOnWriteArrayList<RuntimeState>()
        val report = withTimeout(30_000) {
            client.logout(LogoutOptions(), object : LifecycleListener {
                override fun onPhase(phase: LifecyclePhase, elapsedMs: ULong) {
                    phases += phase
                    runtimeStates += runtimeStats().state
                }
            })
        }
        assertTrue(report.runtimeRestarted)
        assertTrue(LifecyclePhase.RESTARTING_RUNTIME in phases, "phases: $phases")
        assertEquals(LifecyclePhase.DONE, phases.last())
        assertEquals(phases.size, runtimeStates.size)
        assertEquals(0u, report.storeFilesOpenAfter)
        client.destroy()
    }
}
