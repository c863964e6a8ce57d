package dev.matrixmobilecore

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancel
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/**
 * The idiomatic layer's names for what the generated API leaves ambiguous or
 * cold: `syncStateIn(scope)`, a hot `StateFlow`, and `closeAndDrain()`, the
 * awaited close that `AutoCloseable.close()` is not.
 */
class IdiomsTest {
    /** A scope for a StateFlow, as a view model's; `job` tells whether its sharing coroutine still runs. */
    private class TestScope {
        val job = Job()
        val scope = CoroutineScope(Dispatchers.Default + job)
        fun sharingStopped() = job.children.none()
    }

    @Test
    fun syncStateInFollowsSyncAndEndsAtTerminatedWhenTheClientLogsOut() = coreTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        val holder = TestScope()
        try {
            val sync = client.syncStateIn(holder.scope)
            assertEquals(SyncState.IDLE, sync.value, "before startSync")
            client.startSync()
            eventually("RUNNING in the StateFlow", timeout = 30.seconds, read = { sync.value }) { it == SyncState.RUNNING }

            client.logout(LogoutOptions(), null)
            eventually("TERMINATED in the StateFlow", read = { sync.value }) { it == SyncState.TERMINATED }
            // The end signal ended the sharing coroutine: no listener is left registered.
            eventually("the sharing coroutine ends", read = { holder.sharingStopped() }) { it }
            assertEquals(SyncState.TERMINATED, sync.value, "the last state stays")
        } finally {
            holder.scope.cancel()
            client.destroy()
        }
    }

    @Test
    fun syncStateInOnALoggedOutClientIsTerminatedAndHoldsNothing() = coreTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        client.logout(LogoutOptions(), null)
        val holder = TestScope()
        try {
            val sync = client.syncStateIn(holder.scope)
            eventually("TERMINATED", read = { sync.value }) { it == SyncState.TERMINATED }
            eventually("the sharing coroutine ends", read = { holder.sharingStopped() }) { it }
        } finally {
            holder.scope.cancel()
            client.destroy()
        }
    }

    @Test
    fun cancellingTheScopeOfSyncStateInKeepsTheLastStateAndLeavesTheClientUsable() = coreTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        val holder = TestScope()
        val sync = client.syncStateIn(holder.scope)
        startSyncAndAwaitRunning(client)
        eventually("RUNNING", read = { sync.value }) { it == SyncState.RUNNING }
        holder.scope.cancel()
        eventually("the sharing coroutine ends", read = { holder.sharingStopped() }) { it }
        assertEquals(SyncState.RUNNING, sync.value)
        // A new StateFlow on the same client starts from the current state.
        val again = TestScope()
        try {
            assertEquals(SyncState.RUNNING, client.syncStateIn(again.scope).value)
        } finally {
            again.scope.cancel()
        }
        val report = client.closeAndDrain()
        assertEquals(0u, report.storeFilesOpenAfter)
        client.destroy()
    }

    @Test
    fun closeAndDrainReturnsDrainedButLeavesTheHandleWhichCloseThenFrees() = coreTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        startSyncAndAwaitRunning(client)

        val report = client.closeAndDrain()
        assertEquals(0u, report.storeFilesOpenAfter, "stores closed when closeAndDrain returns")
        assertTrue(report.clientDropped, "the last client's matrix Client is dropped: $report")
        assertEquals(ServerLogout.Skipped, report.serverLogout, "closing keeps the session on the server")
        // The handle is still ours: the client reads as drained.
        assertEquals(ClientState.CLOSED, client.state())
        assertFailsWith<CoreException.ClientClosed> { client.closeAndDrain() }

        // AutoCloseable.close() frees the handle, and nothing more.
        client.close()
        assertFailsWith<IllegalStateException> { client.state() }
    }
}
