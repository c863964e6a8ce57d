// Applying the core's list diffs to a plain list, for the chat flows
// (ChatFlows.kt) and for apps that keep their own copy of a list.
package dev.matrixmobilecore

/**
 * One change of a list, with the variants of eyeball-im's `VectorDiff`: the
 * element-generic form of [RoomListUpdate] and [TimelineUpdate] (see
 * [toListDiff]), so that one function, [applyDiffs], applies both.
 *
 * Indices are `Int` here (the generated updates carry `UInt`).
 */
sealed class ListDiff<out T> {
    data class Append<T>(val values: List<T>) : ListDiff<T>()
    data object Clear : ListDiff<Nothing>()
    data class PushFront<T>(val value: T) : ListDiff<T>()
    data class PushBack<T>(val value: T) : ListDiff<T>()
    data object PopFront : ListDiff<Nothing>()
    data object PopBack : ListDiff<Nothing>()
    data class Insert<T>(val index: Int, val value: T) : ListDiff<T>()
    data class Set<T>(val index: Int, val value: T) : ListDiff<T>()
    data class Remove(val index: Int) : ListDiff<Nothing>()
    data class Truncate(val length: Int) : ListDiff<Nothing>()
    data class Reset<T>(val values: List<T>) : ListDiff<T>()
}

/**
 * Returns [current] with [diffs] applied in order; [current] is not changed.
 *
 * A pure function: the chat flows ([roomList], [items]) use it on every batch
 * of updates, and an app that keeps its own list can too.
 *
 * Semantics (eyeball-im's): `Insert` at `index == size` appends; `Truncate` to
 * a length at or above the size leaves the list as it is; `PopFront` and
 * `PopBack` need a non-empty list.
 *
 * @throws IndexOutOfBoundsException when a diff does not fit the list (an index
 *   past its end, a pop of an empty list): the list and its diffs have gone
 *   out of step, which is a bug, never something to paper over.
 */
fun <T> applyDiffs(current: List<T>, diffs: List<ListDiff<T>>): List<T> {
    val list = ArrayList(current)
    for (diff in diffs) list.applyOne(diff)
    return list
}

private fun <T> ArrayList<T>.applyOne(diff: ListDiff<T>) {
    fun requireIndex(index: Int, bound: Int, what: String) {
        if (index < 0 || index > bound) {
            throw IndexOutOfBoundsException("$what at index $index of a list of $size")
        }
    }
    when (diff) {
        is ListDiff.Append -> addAll(diff.values)
        is ListDiff.Clear -> clear()
        is ListDiff.PushFront -> add(0, diff.value)
        is ListDiff.PushBack -> add(diff.value)
        is ListDiff.PopFront -> {
            if (isEmpty()) throw IndexOutOfBoundsException("PopFront of an empty list")
            removeAt(0)
        }
        is ListDiff.PopBack -> {
            if (isEmpty()) throw IndexOutOfBoundsException("PopBack of an empty list")
            removeAt(size - 1)
        }
        is ListDiff.Insert -> {
            requireIndex(diff.index, size, "Insert")
            add(diff.index, diff.value)
        }
        is ListDiff.Set -> {
            requireIndex(diff.index, size - 1, "Set")
            set(diff.index, diff.value)
        }
        is ListDiff.Remove -> {
            requireIndex(diff.index, size - 1, "Remove")
            removeAt(diff.index)
        }
        is ListDiff.Truncate -> {
            if (diff.length < 0) throw IndexOutOfBoundsException("Truncate to ${diff.length}")
            if (diff.length < size) subList(diff.length, size).clear()
        }
        is ListDiff.Reset -> {
            clear()
            addAll(diff.values)
        }
    }
}

/** A `UInt` index of the core as an `Int`; one past `Int.MAX_VALUE` cannot index a JVM list. */
private fun UInt.toIndex(): Int =
    if (this > Int.MAX_VALUE.toUInt()) throw IndexOutOfBoundsException("index $this") else toInt()

/** This room list update in the element-generic form that [applyDiffs] takes. */
fun RoomListUpdate.toListDiff(): ListDiff<RoomSummary> = when (this) {
    is RoomListUpdate.Append -> ListDiff.Append(values)
    is RoomListUpdate.Clear -> ListDiff.Clear
    is RoomListUpdate.PushFront -> ListDiff.PushFront(value)
    is RoomListUpdate.PushBack -> ListDiff.PushBack(value)
    is RoomListUpdate.PopFront -> ListDiff.PopFront
    is RoomListUpdate.PopBack -> ListDiff.PopBack
    is RoomListUpdate.Insert -> ListDiff.Insert(index.toIndex(), value)
    is RoomListUpdate.Set -> ListDiff.Set(index.toIndex(), value)
    is RoomListUpdate.Remove -> ListDiff.Remove(index.toIndex())
    is RoomListUpdate.Truncate -> ListDiff.Truncate(length.toIndex())
    is RoomListUpdate.Reset -> ListDiff.Reset(values)
}

/** This timeline update in the element-generic form that [applyDiffs] takes. */
fun TimelineUpdate.toListDiff(): ListDiff<TimelineItem> = when (this) {
    is TimelineUpdate.Append -> ListDiff.Append(values)
    is TimelineUpdate.Clear -> ListDiff.Clear
    is TimelineUpdate.PushFront -> ListDiff.PushFront(value)
    is TimelineUpdate.PushBack -> ListDiff.PushBack(value)
    is TimelineUpdate.PopFront -> ListDiff.PopFront
    is TimelineUpdate.PopBack -> ListDiff.PopBack
    is TimelineUpdate.Insert -> ListDiff.Insert(index.toIndex(), value)
    is TimelineUpdate.Set -> ListDiff.Set(index.toIndex(), value)
    is TimelineUpdate.Remove -> ListDiff.Remove(index.toIndex())
    is TimelineUpdate.Truncate -> ListDiff.Truncate(length.toIndex())
    is TimelineUpdate.Reset -> ListDiff.Reset(values)
}

/** [rooms] with these room list updates applied; see [applyDiffs]. */
@JvmName("applyRoomListUpdates")
fun List<RoomListUpdate>.applyTo(rooms: List<RoomSummary>): List<RoomSummary> =
    applyDiffs(rooms, map { it.toListDiff() })

/** [items] with these timeline updates applied; see [applyDiffs]. */
@JvmName("applyTimelineUpdates")
fun List<TimelineUpdate>.applyTo(items: List<TimelineItem>): List<TimelineItem> =
    applyDiffs(items, map { it.toListDiff() })
