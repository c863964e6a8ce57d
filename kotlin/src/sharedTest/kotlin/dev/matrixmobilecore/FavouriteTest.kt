package dev.matrixmobilecore

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import java.util.concurrent.atomic.AtomicReference
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/**
 * `setFavourite` against the real Synapse: the tag reaches the room's summary
 * and the room list's `Favourites` filter, and taking it off removes it from
 * both.
 */
class FavouriteTest {
    private val wipe = LogoutOptions(serverTimeoutMs = 5_000u, wipeLocalData = true)

    @Test
    fun setFavouriteShowsInTheSummaryAndTheFavouritesFilterThenLeavesBoth() = coreTest(90.seconds) {
        awaitNoLiveClients()
        val (alice, _) = loggedInClient()
        try {
            val roomId = alice.createRoom("kotlin favourite", emptyList(), false)
            val otherId = alice.createRoom("kotlin not a favourite", emptyList(), false)
            startSyncAndAwaitRunning(alice)
            assertFalse(alice.room(roomId).isFavourite, "a new room is no favourite")

            // The favourites list, collected off the test's thread as a view model would.
            val favourites = AtomicReference<List<RoomSummary>?>(null)
            val options = RoomListOptions(pageSize = 50u, filter = RoomListFilter.Favourites)
            val collecting = launch(Dispatchers.Default) { alice.roomList(options).collect { favourites.set(it) } }
            try {
                eventually("the favourites list, empty", read = { favourites.get() }) { it != null && it.isEmpty() }

                alice.setFavourite(roomId, true)
                eventually("isFavourite in the room's summary", timeout = 20.seconds, read = { alice.room(roomId).isFavourite }) { it }
                val shown = eventually("the room in the favourites list", timeout = 20.seconds, read = { favourites.get() }) {
                    it?.map { room -> room.roomId } == listOf(roomId)
                }!!
                assertTrue(shown.single().isFavourite, "the list's row says favourite: ${shown.single()}")
                assertFalse(alice.room(otherId).isFavourite, "the other room stays no favourite")
                assertEquals(true, alice.rooms().firstOrNull { it.roomId == roomId }?.isFavourite, "rooms() agrees")

                alice.setFavourite(roomId, false)
                eventually("isFavourite off in the room's summary", timeout = 20.seconds, read = { alice.room(roomId).isFavourite }) { !it }
                eventually("the favourites list empty again", timeout = 20.seconds, read = { favourites.get() }) { it != null && it.isEmpty() }
            } finally {
                collecting.cancel()
            }
            val report = alice.logout(wipe, null)
            assertEquals(0u, report.storeFilesOpenAfter, "store files still open after logout")
        } finally {
            alice.destroy()
        }
    }
}
