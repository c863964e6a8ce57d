package dev.matrixmobilecore

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/**
 * Cancelling a suspended call from Kotlin ends its work in the core, and
 * leaves the client and its timelines usable.
 */
class CancellationTest {
    @Test
    fun withTimeoutOnAHangingCallEndsItsTask() = coreTest {
        SilentServer().use { server ->
            val client = Client.create(testConfig(homeserverUrl = server.url))
            client.closing {
                val baseline = runtimeStats().aliveTasks
                assertFailsWith<TimeoutCancellationException> {
                    withTimeout(500) { client.login("nobody", "password", null) }
                }
                eventually<ULong>("alive tasks back to $baseline", read = { runtimeStats().aliveTasks }) { it <= baseline }
            }
        }
    }

    @Test
    fun cancellingTheJobOfAHangingCallEndsItsTask() = coreTest {
        SilentServer().use { server ->
            val client = Client.create(testConfig(homeserverUrl = server.url))
            client.closing {
                val baseline = runtimeStats().aliveTasks
                val job = launch { client.login("nobody", "password", null) }
                // The call is really in flight in the core before we cancel it.
                eventually<ULong>("login task running", read = { runtimeStats().aliveTasks }) { it > baseline }
                job.cancel()
                job.join()
                assertTrue(job.isCancelled)
                eventually<ULong>("alive tasks back to $baseline", read = { runtimeStats().aliveTasks }) { it <= baseline }
            }
        }
    }

    /**
     * Cancelling the coroutine that awaits a timeline call (a pagination, a
     * send), right after the call began in the core or a few milliseconds
     * later, ends the call's task in the core, and a cancelled send that began
     * is still sent. The timeline stays usable (it paginates to the room's
     * start and sends), and the client's close keeps every drain promise: its
     * matrix Client dropped, no task left behind, no store file open.
     */
    @Test
    fun cancelledTimelineCallsLeaveTheClientUsableAndItsCloseKeepsEveryPromise() = coreTest(timeout = 180.seconds) {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        var timeline: Timeline? = null
        try {
            val roomId = client.createRoom("kotlin cancelled timeline calls", emptyList(), false)
            repeat(20) { client.sendText(roomId, "history $it") }
            startSyncAndAwaitRunning(client)
            val tl = client.timeline(roomId).also { timeline = it }

            val sends = mutableListOf<String>()
            var cancelledPages = 0
            var cancelledSends = 0
            for (delayMs in listOf(0L, 1L, 5L, 20L, 50L)) {
                // Started undispatched, each call has begun in the core when
                // `async` returns; with no delay, its cancellation lands
                // before the test's thread can resume it.
                val page = async(start = CoroutineStart.UNDISPATCHED) { tl.paginateBackwards(2u) }
                val body = "cancelled after $delayMs ms"
                val send = async(start = CoroutineStart.UNDISPATCHED) { tl.sendText(body, null) }
                sends += body
                if (delayMs > 0) delay(delayMs)
                page.cancel()
                send.cancel()
                page.join()
                send.join()
                if (page.isCancelled) cancelledPages++
                if (send.isCancelled) cancelledSends++
            }
            assertTrue(cancelledPages > 0, "no pagination was cancelled before it returned")
            assertTrue(cancelledSends > 0, "no send was cancelled before it returned")
            eventually("the cancelled calls' tasks end", read = {
                tasksNamed("paginate_backwards") + tasksNamed("timeline_send_text")
            }) { it == 0 }
            // Each send had begun in the core, so each is queued and sent.
            eventually("every cancelled send sent", timeout = 30.seconds, read = {
                client.recentMessages(roomId, 50u).map { it.body }
            }) { bodies -> sends.all { it in bodies } }

            // The timeline is still usable: it paginates to the start and sends.
            var atStart = false
            for (page in 0 until 20) {
                if (tl.paginateBackwards(20u)) {
                    atStart = true
                    break
                }
            }
            assertTrue(atStart, "pagination after the cancelled ones never reached the start of the room")
            tl.sendText("after the cancellations", null)
            eventually("the message after the cancellations sent", timeout = 30.seconds, read = {
                client.recentMessages(roomId, 10u).map { it.body }
            }) { "after the cancellations" in it }

            val report = client.closeAndDrain()
            assertTrue(report.clientDropped, "matrix Client not dropped: $report")
            assertEquals(0u, report.tasksLeftBehind, "tasks left behind: $report")
            assertEquals(0u, report.storeFilesOpenAfter, "store files still open after close: $report")
            assertEquals(0u, report.unsentMessages, "a cancelled send was left unsent: $report")
        } finally {
            timeline?.destroy()
            client.destroy()
        }
    }

    /**
     * Releasing the handle while a call on it is in flight must neither crash
     * nor leak: the call keeps the client alive until it ends, then the core
     * closes the client in the background. 300 releases by default
     * (`-Dmmc.releaseIterations` sets another count): a call that resolved
     * its client inside a spawned task lost that race about half the time.
     */
    @Test
    fun releasingAClientRightAfterStartingACallHundredsOfTimes() = coreTest(timeout = 10.minutes) {
        awaitNoLiveClients()
        val iterations = System.getProperty("mmc.releaseIterations")?.toInt() ?: 300
        val root = TestEnv.newDataDir()
        try {
            repeat(iterations) { i ->
                val client = Client.create(testConfig(java.io.File(root, "c$i")))
                val call = async(start = CoroutineStart.UNDISPATCHED) { runCatching { client.stopSync() } }
                client.destroy()
                val outcome = call.await()
                // Not logged in: stopSync succeeds, or meets the client's end.
                val error = outcome.exceptionOrNull()
                assertTrue(
                    error == null || error is CoreException.ClientClosed || error is CoreException.InvalidState ||
                        error is CoreException.Busy,
                    "iteration $i: unexpected $error",
                )
            }
            eventually<UInt>("released clients closed", timeout = 60.seconds, read = { runtimeStats().liveClients }) { it == 0u }
        } finally {
            root.deleteRecursively()
        }
    }
}
