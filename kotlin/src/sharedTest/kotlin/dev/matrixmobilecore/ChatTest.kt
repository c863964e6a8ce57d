package dev.matrixmobilecore

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeoutOrNull
import java.io.File
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicReference
import kotlin.random.Random
import kotlin.test.Test
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

/**
 * The chat flows (ChatFlows.kt) against the real Synapse: timelines with local
 * echoes, edits, reactions and history; the room list with an invite and a
 * controller; typing (started, then stopped), a reply and files between two
 * users; and the end of every flow when its client logs out.
 */
class ChatTest {
    /** Every emission of [flow], collected on a core-independent thread until the flow completes. */
    private class Recorder<T>(scope: CoroutineScope, flow: Flow<T>) {
        val seen = CopyOnWriteArrayList<T>()
        val done: Deferred<Unit> = scope.async(Dispatchers.Default) { flow.collect { seen += it } }
        fun last(): T? = seen.lastOrNull()

        /** Fails unless the flow completed normally (its end signal) within [timeout]. */
        suspend fun assertCompletes(what: String, timeout: Duration = 15.seconds) {
            assertNotNull(withTimeoutOrNull(timeout) { done.await() }, "$what did not complete at the end signal")
        }
    }

    private fun TimelineItem.event() = kind as? TimelineItemKind.Event
    private fun TimelineItem.body(): String? = (event()?.content as? MessageContent.Text)?.body
    private fun Recorder<List<TimelineItem>>.items() = last().orEmpty()

    private val wipe = LogoutOptions(serverTimeoutMs = 5_000u, wipeLocalData = true)

    /** How long a typing notice of matrix-sdk's lasts on the server unless renewed. */
    private val typingNoticeLifetime = 4.seconds

    @Test
    fun timelineItemsShowTheEchoSentEditReactionAndHistoryAndEndAtLogout() = coreTest(180.seconds) {
        awaitNoLiveClients()
        val (alice, _) = loggedInClient()
        var timeline: Timeline? = null
        try {
            val roomId = alice.createRoom("kotlin chat", emptyList(), false)
            repeat(30) { alice.sendText(roomId, "history $it") }
            alice.startSync()
            val tl = alice.timeline(roomId).also { timeline = it }
            val items = Recorder(this, tl.items())
            val updates = Recorder(this, tl.updates())

            val first = eventually("the first batch of updates", read = { updates.seen.firstOrNull() }) { it != null }!!
            assertIs<TimelineUpdate.Reset>(first.first(), "the first update is a Reset")

            // Back to the room's start: all the history, oldest first.
            var atStart = false
            for (page in 0 until 20) {
                if (tl.paginateBackwards(20u)) {
                    atStart = true
                    break
                }
            }
            assertTrue(atStart, "pagination never reached the start of the room")
            val history = eventually("all 30 history messages", read = {
                items.items().mapNotNull { it.body() }.filter { it.startsWith("history ") }
            }) { it.size == 30 }
            assertEquals((0 until 30).map { "history $it" }, history, "history in order, oldest first")
            // The TimelineStart item may come in a later batch than the history.
            val list = eventually("a TimelineStart item at the room's start", read = { items.items() }) { seen ->
                seen.any { it.kind is TimelineItemKind.TimelineStart }
            }
            val startAt = list.indexOfFirst { it.kind is TimelineItemKind.TimelineStart }
            assertTrue(startAt < list.indexOfFirst { it.body() == "history 0" }, "TimelineStart after the history")
            // The list the flow builds from the diffs is the one the raw diffs give.
            // The list items() builds is the one the raw diffs of updates() give.
            eventually("the raw diffs applied to equal items()", read = {
                updates.seen.fold(emptyList<TimelineItem>()) { acc, batch -> batch.applyTo(acc) } to items.items()
            }) { (fromRaw, fromItems) -> fromRaw == fromItems }

            // A local echo, then Sent under the same item id.
            tl.sendText("hello", null)
            val echo = eventually("the local echo", read = {
                items.seen.firstNotNullOfOrNull { snapshot -> snapshot.firstOrNull { it.body() == "hello" } }
            }) { it != null }!!
            assertEquals(SendState.Sending, echo.event()!!.sendState, "first seen as a local echo: $echo")
            assertNull(echo.event()!!.eventId, "a local echo has no event id yet")
            val sent = eventually("hello Sent", timeout = 20.seconds, read = {
                items.seen.firstNotNullOfOrNull { snapshot ->
                    snapshot.firstOrNull { it.body() == "hello" && it.event()?.sendState is SendState.Sent }
                }
            }) { it != null }!!
            assertEquals(echo.itemId, sent.itemId, "the item id is kept from echo to Sent")
            val eventId = (sent.event()!!.sendState as SendState.Sent).eventId
            assertTrue(eventId.startsWith("$"))
            eventually("hello with its event id", read = { items.items().firstOrNull { it.itemId == echo.itemId } }) {
                it?.event()?.eventId == eventId
            }

            // An edit and a reaction on the same item.
            tl.edit(echo.itemId, "hello, edited")
            eventually("the edit", timeout = 20.seconds, read = { items.items().firstOrNull { it.itemId == echo.itemId } }) {
                it?.body() == "hello, edited" && it.event()!!.edited
            }
            tl.toggleReaction(echo.itemId, "👍")
            eventually("the reaction", timeout = 20.seconds, read = { items.items().firstOrNull { it.itemId == echo.itemId } }) { item ->
                item?.event()?.reactions.orEmpty().any { it.key == "👍" && it.count == 1u && it.byMe }
            }
            assertEquals(1, items.items().count { it.body() == "hello, edited" }, "the edit replaced the item, it added none")

            // The logout drains with the timeline observed, and ends both flows.
            val report = alice.logout(wipe, null)
            assertEquals(0u, report.storeFilesOpenAfter, "store files still open after logout")
            items.assertCompletes("items()")
            updates.assertCompletes("updates()")
            assertFailsWith<CoreException.ClientClosed> { tl.paginateBackwards(10u) }
            assertFailsWith<CoreException.ClientClosed> { tl.sendText("too late", null) }
            // A flow started on the ended client completes at once, empty.
            assertEquals(emptyList(), withTimeoutOrNull(5.seconds) { tl.items().toList() }, "items() after the end")
        } finally {
            timeline?.destroy()
            alice.destroy()
        }
    }

    @Test
    fun roomListSeesAnInviteThenTheJoinFollowsItsControllerAndEndsAtLogout() = coreTest(180.seconds) {
        awaitNoLiveClients()
        val (alice, _) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        try {
            val otherId = bob.createRoom("bob's other room", emptyList(), false)
            startSyncAndAwaitRunning(bob)
            val controller = RoomListController()
            val rooms = Recorder(this, bob.roomList(controller = controller))
            val raw = Recorder(this, bob.roomListUpdates())
            val first = eventually("the first batch of the list", read = { raw.seen.firstOrNull() }) { it != null }!!
            assertIs<RoomListUpdate.Reset>(first.first(), "the first update is a Reset")
            eventually("the controller reaches the list", read = { controller.activeCollections }) { it == 1 }

            val roomId = alice.createRoom("kotlin garden", listOf(bobSession.userId), false)
            fun row() = rooms.last().orEmpty().firstOrNull { it.roomId == roomId }
            eventually("the invite in the list", timeout = 30.seconds, read = { row() }) {
                it?.membership == Membership.INVITED
            }
            bob.joinRoom(roomId)
            eventually("the room joined in the list", timeout = 30.seconds, read = { row() }) {
                it?.membership == Membership.JOINED
            }
            val memberships = rooms.seen.mapNotNull { snapshot -> snapshot.firstOrNull { it.roomId == roomId }?.membership }
            assertEquals(Membership.INVITED, memberships.first(), "first seen as an invite: $memberships")
            assertEquals(listOf(Membership.INVITED, Membership.JOINED), memberships.distinct())

            // The controller filters the list it reaches, and only that one.
            controller.setFilter(RoomListFilter.NameMatches("no such room at all"))
            eventually("the list filtered to nothing", read = { rooms.last() }) { it != null && it.isEmpty() }
            controller.setFilter(RoomListFilter.NameMatches("kotlin gard"))
            eventually("the list filtered to the garden", read = { rooms.last() }) { it?.map { r -> r.roomId } == listOf(roomId) }
            assertEquals(RoomListFilter.NameMatches("kotlin gard"), controller.filter)
            assertTrue(controller.loadMore(), "loadMore reaches the running list")
            // The list collected without the controller stays unfiltered.
            eventually("both rooms in the list without a controller", read = {
                raw.seen.fold(emptyList<RoomSummary>()) { acc, batch -> batch.applyTo(acc) }.map { it.roomId }.toSet()
            }) { it == setOf(roomId, otherId) }

            // Cancelling a collector cancels its list in the core.
            val lists = tasksNamed("room-list")
            assertEquals(2, lists, "one core task per collected list: ${runtimeStats().supervisedTasks}")
            val once = bob.roomList(controller = controller).first { it.isNotEmpty() }
            assertEquals(listOf(roomId), once.map { it.roomId }, "a new collection starts with the remembered filter")
            eventually("the cancelled list's task ends", read = { tasksNamed("room-list") }) { it == lists }
            assertEquals(1, controller.activeCollections, "the cancelled collection is let go")

            alice.logout(wipe, null)
            val report = bob.logout(wipe, null)
            assertEquals(0u, report.storeFilesOpenAfter, "store files still open after logout")
            assertTrue(report.clientDropped, "matrix Client not dropped: ${report.warnings}")
            rooms.assertCompletes("roomList()")
            raw.assertCompletes("roomListUpdates()")
            assertEquals(0, controller.activeCollections)
            assertEquals(false, controller.loadMore(), "nothing left to reach")
            assertEquals(emptyList(), withTimeoutOrNull(5.seconds) { bob.roomList().toList() }, "roomList() after the end")
        } finally {
            alice.destroy()
            bob.destroy()
        }
    }

    @Test
    fun typingAndAFileGoFromOneUserToTheOtherByteForByte() = coreTest(180.seconds) {
        awaitNoLiveClients()
        val (alice, aliceSession) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        val timelines = mutableListOf<Timeline>()
        val dir = TestEnv.newDataDir()
        try {
            val roomId = alice.createRoom("kotlin files", listOf(bobSession.userId), true)
            bob.startSync()
            eventually("bob's invite", timeout = 30.seconds, read = { runCatching { bob.room(roomId) }.getOrNull() }) { it != null }
            bob.joinRoom(roomId)
            alice.startSync()
            val aliceTimeline = alice.timeline(roomId).also { timelines += it }
            val bobTimeline = bob.timeline(roomId).also { timelines += it }
            val bobItems = Recorder(this, bobTimeline.items())
            val typing = Recorder(this, bobTimeline.typing())

            // Wait until bob's timeline runs (its Reset) before alice acts.
            eventually("bob's timeline", read = { bobItems.seen.size }) { it > 0 }
            assertTrue(typing.seen.none { aliceSession.userId in it }, "alice typing before she started: ${typing.seen}")
            val started = TimeSource.Monotonic.markNow()
            aliceTimeline.setTyping(true)
            eventually("alice typing, seen by bob", timeout = 30.seconds, read = { typing.seen.toList() }) { seen ->
                seen.any { aliceSession.userId in it }
            }
            aliceTimeline.setTyping(false)
            eventually("alice no longer typing, seen by bob", timeout = 30.seconds, read = { typing.last() }) {
                it != null && aliceSession.userId !in it
            }
            // Synapse drops a typing notice no sooner than its timeout (4 s,
            // matrix-sdk's), so a stop seen before then is alice's own.
            val stoppedAfter = started.elapsedNow()
            assertTrue(stoppedAfter < typingNoticeLifetime, "the stop was seen only after $stoppedAfter, when the notice may have expired")

            val content = Random.nextBytes(150_000)
            val file = File(dir, "data.bin").apply { writeBytes(content) }
            val progress = AtomicReference<Pair<ULong, ULong>?>()
            aliceTimeline.sendFile(file.absolutePath, "application/octet-stream", "the data", object : ProgressListener {
                override fun onProgress(sent: ULong, total: ULong) = progress.set(sent to total)
            })
            val media = eventually("the file in bob's timeline", timeout = 30.seconds, read = {
                bobItems.items().firstNotNullOfOrNull { it.event()?.content as? MessageContent.Media }
            }) { it != null }!!
            assertTrue(media.source.encrypted, "a file in an encrypted room is encrypted")
            assertEquals("application/octet-stream", media.mimetype)
            val dest = File(dir, "downloaded.bin")
            val size = bob.downloadMedia(media.source, dest.absolutePath)
            assertEquals(content.size.toULong(), size)
            assertContentEquals(content, dest.readBytes(), "the download differs from what was sent")
            val last = assertNotNull(progress.get(), "no upload progress was reported")
            assertTrue(last.first == last.second && last.second > 0u, "the upload's progress reached its total: $last")

            alice.logout(wipe, null)
            val report = bob.logout(wipe, null)
            assertEquals(0u, report.storeFilesOpenAfter, "store files still open after logout")
            bobItems.assertCompletes("items()")
            typing.assertCompletes("typing()")
            assertFailsWith<CoreException.ClientClosed> { bobTimeline.markAsRead() }
        } finally {
            timelines.forEach { it.destroy() }
            alice.destroy()
            bob.destroy()
            dir.deleteRecursively()
        }
    }

    /**
     * A reply names the event it answers in both users' timelines: bob's
     * reply to alice's message shows `inReplyTo` = her message's event id from
     * its local echo on, and alice sees it from bob with the same `inReplyTo`,
     * while the message it answers replies to nothing.
     */
    @Test
    fun aReplyNamesTheEventItAnswersInBothUsersTimelines() = coreTest(180.seconds) {
        awaitNoLiveClients()
        val (alice, aliceSession) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        val timelines = mutableListOf<Timeline>()
        try {
            val roomId = encryptedRoomOfTwo(alice, bob, bobSession.userId)
            val aliceTimeline = alice.timeline(roomId).also { timelines += it }
            val bobTimeline = bob.timeline(roomId).also { timelines += it }
            val aliceItems = Recorder(this, aliceTimeline.items())
            val bobItems = Recorder(this, bobTimeline.items())

            aliceTimeline.sendText("the question", null)
            val question = eventually("alice's message in bob's timeline", timeout = 30.seconds, read = {
                bobItems.items().firstOrNull { it.body() == "the question" }?.event()
            }) { it?.eventId != null }!!
            assertEquals(aliceSession.userId, question.sender)
            assertNull(question.inReplyTo, "a message sent without a reply target: $question")
            val questionId = question.eventId!!

            bobTimeline.sendText("the answer", questionId)
            val echo = eventually("bob's reply, in his timeline", read = {
                bobItems.items().firstOrNull { it.body() == "the answer" }?.event()
            }) { it != null }!!
            assertEquals(questionId, echo.inReplyTo, "bob's reply names the message it answers: $echo")
            val reply = eventually("bob's reply, in alice's timeline", timeout = 30.seconds, read = {
                aliceItems.items().firstOrNull { it.body() == "the answer" }?.event()
            }) { it != null }!!
            assertEquals(bobSession.userId, reply.sender)
            assertFalse(reply.isOwn, "bob's reply is not alice's own: $reply")
            assertEquals(questionId, reply.inReplyTo, "alice sees what bob's reply answers: $reply")
            val answered = aliceItems.items().first { it.body() == "the question" }.event()!!
            assertEquals(questionId, answered.eventId)
            assertNull(answered.inReplyTo, "the message answered replies to nothing: $answered")

            alice.logout(wipe, null)
            val report = bob.logout(wipe, null)
            assertEquals(0u, report.storeFilesOpenAfter, "store files still open after logout")
            aliceItems.assertCompletes("alice's items()")
            bobItems.assertCompletes("bob's items()")
        } finally {
            timelines.forEach { it.destroy() }
            alice.destroy()
            bob.destroy()
        }
    }

    @Test
    fun cancellingATimelineCollectorCancelsItsSubscription() = coreTest(120.seconds) {
        awaitNoLiveClients()
        val (alice, _) = loggedInClient()
        var timeline: Timeline? = null
        try {
            val roomId = alice.createRoom("kotlin cancel", emptyList(), false)
            alice.startSync()
            val tl = alice.timeline(roomId).also { timeline = it }
            val before = tasksNamed("timeline-items")
            val typingBefore = tasksNamed("typing")
            val recorder = Recorder(this, tl.items())
            val typing = Recorder(this, tl.typing())
            eventually("the timeline's task", read = { tasksNamed("timeline-items") }) { it == before + 1 }
            eventually("the typing task", read = { tasksNamed("typing") }) { it == typingBefore + 1 }
            eventually("the first items", read = { recorder.seen.size }) { it > 0 }
            recorder.done.cancel()
            typing.done.cancel()
            eventually("the timeline's task ends with its collector", read = { tasksNamed("timeline-items") }) { it == before }
            eventually("the typing task ends with its collector", read = { tasksNamed("typing") }) { it == typingBefore }
            // The timeline stays usable for a new collection.
            assertIs<List<TimelineItem>>(withTimeoutOrNull(10.seconds) { tl.items().first() }, "a new collection gets its Reset")
            tl.sendText("still usable", null)
            val report = alice.logout(wipe, null)
            assertEquals(0u, report.storeFilesOpenAfter)
        } finally {
            timeline?.destroy()
            alice.destroy()
        }
    }
}
