package dev.matrixmobilecore

import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeoutOrNull
import java.io.File
import java.util.concurrent.atomic.AtomicReference
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/**
 * The send queue without the server, from Kotlin: the client reaches Synapse
 * through a [TcpProxy] that the test kills. A message sent then keeps its
 * local echo and is counted in `close()`'s `unsentMessages`; `cancelSend`
 * takes a queued one back (its echo goes) and says `false` for a sent one.
 */
class OfflineTest {
    private fun TimelineItem.event() = kind as? TimelineItemKind.Event
    private fun TimelineItem.body(): String? = (event()?.content as? MessageContent.Text)?.body
    private fun List<TimelineItem>.withBody(body: String) = firstOrNull { it.body() == body }

    @Test
    fun aMessageSentOfflineKeepsItsEchoIsUnsentAtCloseAndCancelSendTakesOneBack() = coreTest(90.seconds) {
        awaitNoLiveClients()
        TcpProxy(TestEnv.homeserverUrl).use { proxy ->
            val config = testConfig(homeserverUrl = proxy.url)
            val (client, _) = loggedInClient(config)
            var timeline: Timeline? = null
            var collecting: Deferred<Unit>? = null
            try {
                val roomId = client.createRoom("kotlin offline", emptyList(), false)
                startSyncAndAwaitRunning(client)
                val tl = client.timeline(roomId).also { timeline = it }
                val latest = AtomicReference<List<TimelineItem>>(emptyList())
                val items = async(Dispatchers.Default) { tl.items().collect { latest.set(it) } }.also { collecting = it }

                tl.sendText("before", null)
                val before = eventually("the first message sent", timeout = 20.seconds, read = { latest.get().withBody("before") }) {
                    it?.event()?.eventId != null
                }!!

                proxy.die()
                tl.sendText("kept", null)
                tl.sendText("taken back", null)
                val taken = eventually("both offline echoes", read = { latest.get() }) {
                    it.withBody("kept") != null && it.withBody("taken back") != null
                }.withBody("taken back")!!
                assertNull(taken.event()!!.eventId, "an offline echo has no event id: $taken")

                assertTrue(tl.cancelSend(taken.itemId), "a queued message is taken back")
                eventually("the taken-back echo to go", read = { latest.get().withBody("taken back") }) { it == null }
                assertFalse(tl.cancelSend(before.itemId), "a sent message cannot be taken back")

                // The other echo stays, unsent, while the server is unreachable.
                delay(2_000)
                val kept = assertNotNull(latest.get().withBody("kept"), "the offline echo is gone: ${latest.get()}")
                assertNull(kept.event()!!.eventId, "sent while the server was unreachable: $kept")
                val state = kept.event()!!.sendState
                assertTrue(
                    state == SendState.Sending || (state is SendState.Failed && state.retriable),
                    "the offline echo is queued or retriable: $state",
                )

                val report = client.closeAndDrain()
                assertEquals(1u, report.unsentMessages, "the kept message is unsent at the close: $report")
                assertEquals(0u, report.storeFilesOpenAfter, "store files still open after close: $report")
                assertNotNull(withTimeoutOrNull(10.seconds) { items.await() }, "items() did not complete at the close")
                assertFailsWith<CoreException.ClientClosed> { tl.sendText("too late", null) }
            } finally {
                collecting?.cancel()
                timeline?.destroy()
                client.destroy()
                File(config.dataDir).deleteRecursively()
            }
        }
    }
}
