package dev.matrixmobilecore

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.Flow
import java.util.concurrent.atomic.AtomicReference
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/**
 * Composing from Kotlin against the real Synapse (the Rust test
 * `core/tests/chat/compose.rs`): Markdown, emotes, notices and intentional
 * mentions as the other user reads them, a reply by item id whose details
 * arrive, an edit, bad input refused before anything is queued; and the
 * unread mark, which [Client.room] shows when [Client.setMarkedUnread]
 * returns.
 */
class ComposeTest {
    /** The latest list of [flow], collected on a core-independent thread. */
    private class Latest(scope: CoroutineScope, flow: Flow<List<TimelineItem>>) {
        private val latest = AtomicReference<List<TimelineItem>>(emptyList())
        val job: Deferred<Unit> = scope.async(Dispatchers.Default) { flow.collect { latest.set(it) } }
        fun items(): List<TimelineItem> = latest.get()
    }

    private fun text(body: String) = OutgoingMessage(body = body, kind = OutgoingKind.TEXT)

    /** The event item whose text, emote or notice body is [body]. */
    private fun List<TimelineItem>.find(body: String): Pair<TimelineItem, TimelineItemKind.Event>? =
        firstNotNullOfOrNull { item ->
            val event = item.kind as? TimelineItemKind.Event ?: return@firstNotNullOfOrNull null
            val shown = when (val c = event.content) {
                is MessageContent.Text -> c.body
                is MessageContent.Emote -> c.body
                is MessageContent.Notice -> c.body
                else -> null
            }
            if (shown == body) item to event else null
        }

    private fun List<TimelineItem>.event(body: String): TimelineItemKind.Event =
        assertNotNull(find(body), "no item \"$body\" in $this").second

    @Test
    fun messagesCarryMarkdownMentionsKindsRepliesAndEdits() = coreTest(180.seconds) {
        awaitNoLiveClients()
        val (alice, aliceSession) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        val timelines = mutableListOf<Timeline>()
        val collectors = mutableListOf<Deferred<Unit>>()
        try {
            val bobId = bobSession.userId
            alice.startSync()
            bob.startSync()
            val roomId = alice.createRoom("compose", listOf(bobId), false)
            bob.joinRoom(roomId)
            val theirs = bob.timeline(roomId).also { timelines += it }
            val bobItems = Latest(this, theirs.items()).also { collectors += it.job }
            val mine = alice.timeline(roomId).also { timelines += it }
            val aliceItems = Latest(this, mine.items()).also { collectors += it.job }

            mine.sendMessage(text("**hello** bob").copy(markdown = true, mentions = listOf(bobId)), null)
            mine.sendMessage(text("no one in particular"), null)
            mine.sendMessage(OutgoingMessage(body = "waves", kind = OutgoingKind.EMOTE), null)
            mine.sendMessage(OutgoingMessage(body = "the room, noticed", kind = OutgoingKind.NOTICE, mentionRoom = true), null)

            // A reply by item id to a local echo, right after its send.
            mine.sendMessage(text("the original"), null)
            val echo = eventually("the original's echo", read = { aliceItems.items().find("the original") }) { it != null }!!.first
            mine.sendMessage(text("a reply to it"), echo.itemId)

            val bodies = listOf("**hello** bob", "no one in particular", "waves", "the room, noticed", "a reply to it")
            val seen = eventually("bob's view of every message", timeout = 30.seconds, read = { bobItems.items() }) { items ->
                bodies.all { items.find(it) != null }
            }

            // Markdown, read by bob as HTML; bob is mentioned.
            val hello = seen.event("**hello** bob")
            val html = assertNotNull((hello.content as? MessageContent.Text)?.formattedHtml, "no HTML: ${hello.content}")
            assertTrue("<strong>hello</strong>" in html, html)
            assertTrue(hello.mentionsMe, "bob is mentioned: $hello")
            // Plain text: no HTML, no mention.
            val plain = seen.event("no one in particular")
            assertNull(assertIs<MessageContent.Text>(plain.content).formattedHtml, "${plain.content}")
            assertFalse(plain.mentionsMe, "$plain")
            // The kinds.
            assertIs<MessageContent.Emote>(seen.event("waves").content)
            val notice = seen.event("the room, noticed")
            assertIs<MessageContent.Notice>(notice.content)
            assertTrue(notice.mentionsMe, "@room mentions everyone: $notice")
            // The sender is not mentioned by her own message to bob.
            val ownHello = eventually("alice's hello from the server", timeout = 30.seconds, read = {
                aliceItems.items().find("**hello** bob")?.second
            }) { it?.eventId != null }!!
            assertFalse(ownHello.mentionsMe, "alice's own message mentions her: $ownHello")

            // The reply names its message at once; its details arrive.
            val original = assertNotNull(seen.event("the original").eventId, "the original's event id")
            assertEquals(original, seen.event("a reply to it").inReplyTo)
            val reply = eventually("the reply's details", timeout = 30.seconds, read = {
                bobItems.items().find("a reply to it")?.second?.reply
            }) { it != null }!!
            assertEquals(original, reply.eventId, "$reply")
            assertEquals("the original", reply.preview, "$reply")
            assertEquals(PreviewKind.Text("the original"), reply.kind, "$reply")
            assertEquals(aliceSession.userId, reply.sender, "$reply")

            // An edit replaces the message, formatted.
            mine.editMessage(echo.itemId, text("*edited* text").copy(markdown = true))
            val edited = eventually("the edit", timeout = 30.seconds, read = { bobItems.items().find("*edited* text")?.second }) {
                it != null && it.edited
            }!!
            val editedHtml = (edited.content as? MessageContent.Text)?.formattedHtml
            assertTrue(editedHtml != null && "<em>edited</em>" in editedHtml, "$edited")
            assertNull(bobItems.items().find("the original"), "the edit replaced the original")

            // Bad input: refused, and nothing is queued.
            assertFailsWith<CoreException.InvalidArgument>("a blank body") { mine.sendMessage(text("  "), null) }
            assertFailsWith<CoreException.InvalidArgument>("a mention of not a user id") {
                mine.sendMessage(text("hi bob").copy(mentions = listOf("bob")), null)
            }
            assertFailsWith<CoreException.InvalidArgument>("a blank edit") { mine.editMessage(echo.itemId, text("")) }
            assertFailsWith<CoreException.NotFound>("a reply to no item") { mine.sendMessage(text("to nothing"), "no-such-item") }
            assertNull(aliceItems.items().find("hi bob"), "the refused message was queued")
            assertNull(aliceItems.items().find("to nothing"), "the refused reply was queued")

            collectors.forEach { it.cancel() }
            alice.logout(LogoutOptions(), null)
            bob.logout(LogoutOptions(), null)
        } finally {
            collectors.forEach { it.cancel() }
            timelines.forEach { it.destroy() }
            alice.destroy()
            bob.destroy()
        }
    }

    @Test
    fun theUnreadMarkIsInTheRoomsSummaryWhenTheCallReturns() = coreTest(120.seconds) {
        awaitNoLiveClients()
        val (alice, _) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        try {
            bob.startSync()
            val roomId = alice.createRoom("unread", listOf(bobSession.userId), false)
            bob.joinRoom(roomId)
            eventually("bob's room joined", timeout = 30.seconds, read = { runCatching { bob.room(roomId).membership }.getOrNull() }) {
                it == Membership.JOINED
            }
            assertFalse(bob.room(roomId).isMarkedUnread, "a new room is not marked unread")

            bob.setMarkedUnread(roomId, true)
            assertTrue(bob.room(roomId).isMarkedUnread, "marked unread: ${bob.room(roomId)}")
            bob.setMarkedUnread(roomId, false)
            assertFalse(bob.room(roomId).isMarkedUnread, "the mark cleared: ${bob.room(roomId)}")

            assertFailsWith<CoreException.NotFound>("an unknown room") { bob.setMarkedUnread("!nowhere:example.org", true) }
            alice.logout(LogoutOptions(), null)
            bob.logout(LogoutOptions(), null)
        } finally {
            alice.destroy()
            bob.destroy()
        }
    }
}
