package dev.matrixmobilecore

import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith

/** [applyDiffs] and the conversions of the core's updates, without a server. */
class DiffsTest {
    @Test
    fun eachVariantChangesTheListAsEyeballImDoes() {
        val start = listOf("a", "b", "c")
        fun after(vararg diffs: ListDiff<String>) = applyDiffs(start, diffs.toList())

        assertEquals(listOf("a", "b", "c", "d", "e"), after(ListDiff.Append(listOf("d", "e"))))
        assertEquals(emptyList(), after(ListDiff.Clear))
        assertEquals(listOf("z", "a", "b", "c"), after(ListDiff.PushFront("z")))
        assertEquals(listOf("a", "b", "c", "z"), after(ListDiff.PushBack("z")))
        assertEquals(listOf("b", "c"), after(ListDiff.PopFront))
        assertEquals(listOf("a", "b"), after(ListDiff.PopBack))
        assertEquals(listOf("a", "z", "b", "c"), after(ListDiff.Insert(1, "z")))
        assertEquals(listOf("a", "b", "c", "z"), after(ListDiff.Insert(3, "z")), "Insert at size appends")
        assertEquals(listOf("a", "z", "c"), after(ListDiff.Set(1, "z")))
        assertEquals(listOf("a", "c"), after(ListDiff.Remove(1)))
        assertEquals(listOf("a"), after(ListDiff.Truncate(1)))
        assertEquals(start, after(ListDiff.Truncate(5)), "Truncate past the end changes nothing")
        assertEquals(listOf("x"), after(ListDiff.Reset(listOf("x"))))
    }

    @Test
    fun aBatchAppliesInOrderAndLeavesTheInputAlone() {
        val start = mutableListOf("a", "b")
        val result = applyDiffs(
            start,
            listOf(
                ListDiff.Reset(listOf("1", "2", "3")),
                ListDiff.Remove(0),
                ListDiff.Insert(0, "0"),
                ListDiff.Set(2, "three"),
                ListDiff.PushBack("4"),
                ListDiff.PopFront,
                ListDiff.Append(listOf("5")),
                ListDiff.Truncate(3),
            ),
        )
        assertEquals(listOf("2", "three", "4"), result)
        assertEquals(listOf("a", "b"), start, "the input list is not changed")
        start += "c"
        assertEquals(listOf("2", "three", "4"), result, "the result does not share the input's storage")
    }

    @Test
    fun aDiffThatDoesNotFitFailsInsteadOfGuessing() {
        val start = listOf("a")
        assertFailsWith<IndexOutOfBoundsException> { applyDiffs(start, listOf(ListDiff.Set(1, "z"))) }
        assertFailsWith<IndexOutOfBoundsException> { applyDiffs(start, listOf(ListDiff.Remove(1))) }
        assertFailsWith<IndexOutOfBoundsException> { applyDiffs(start, listOf(ListDiff.Insert(2, "z"))) }
        assertFailsWith<IndexOutOfBoundsException> { applyDiffs(start, listOf(ListDiff.Insert(-1, "z"))) }
        assertFailsWith<IndexOutOfBoundsException> { applyDiffs(emptyList<String>(), listOf(ListDiff.PopFront)) }
        assertFailsWith<IndexOutOfBoundsException> { applyDiffs(emptyList<String>(), listOf(ListDiff.PopBack)) }
        assertFailsWith<IndexOutOfBoundsException> {
            TimelineUpdate.Remove(UInt.MAX_VALUE).toListDiff()
        }
    }

    @Test
    fun timelineAndRoomListUpdatesMapToTheSameDiffs() {
        fun item(id: String) = TimelineItem(id, TimelineItemKind.ReadMarker)
        val items = listOf(
            TimelineUpdate.Reset(listOf(item("1"), item("2"))),
            TimelineUpdate.PushBack(item("3")),
            TimelineUpdate.Insert(0u, item("0")),
            TimelineUpdate.Set(1u, item("one")),
            TimelineUpdate.Remove(2u),
            TimelineUpdate.PushFront(item("-1")),
            TimelineUpdate.PopBack,
            TimelineUpdate.Append(listOf(item("4"), item("5"))),
            TimelineUpdate.PopFront,
            TimelineUpdate.Truncate(3u),
        ).applyTo(emptyList())
        assertEquals(listOf("0", "one", "4"), items.map { it.itemId })
        assertEquals(emptyList(), listOf(TimelineUpdate.Clear).applyTo(items))

        fun room(id: String) = RoomSummary(
            roomId = id, name = null, isEncrypted = false, joinedMembers = 1u, membership = Membership.JOINED,
            isDirect = false, isFavourite = false, topic = null, avatarUrl = null, unreadMessages = 0u,
            unreadMentions = 0u, latest = null,
        )
        val rooms = listOf(
            RoomListUpdate.Reset(listOf(room("!a"), room("!b"))),
            RoomListUpdate.Insert(1u, room("!c")),
            RoomListUpdate.Set(0u, room("!A")),
            RoomListUpdate.Remove(2u),
            RoomListUpdate.PushFront(room("!z")),
            RoomListUpdate.PushBack(room("!y")),
            RoomListUpdate.PopFront,
            RoomListUpdate.PopBack,
            RoomListUpdate.Append(listOf(room("!d"))),
            RoomListUpdate.Truncate(2u),
        ).applyTo(emptyList())
        assertEquals(listOf("!A", "!c"), rooms.map { it.roomId })
        assertEquals(emptyList(), listOf(RoomListUpdate.Clear).applyTo(rooms))
    }
}
