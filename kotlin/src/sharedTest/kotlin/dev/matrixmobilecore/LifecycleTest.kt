package dev.matrixmobilecore

import java.io.File
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/** The whole life of a client against the real Synapse, with the lifecycle guarantees checked. */
class LifecycleTest {
    @Test
    fun fullLifeFromLoginToLogoutDrainsEverything() = coreTest {
        awaitNoLiveClients()
        val dataDir = TestEnv.newDataDir()
        val (client, session) = loggedInClient(testConfig(dataDir))
        try {
            assertEquals(ClientState.LOGGED_IN, client.state())
            assertEquals(session.userId, client.userId())
            assertTrue(session.accessToken.isNotEmpty())

            startSyncAndAwaitRunning(client)

            val roomId = client.createRoom("kotlin life", emptyList(), false)
            val body = "hello from kotlin ${System.nanoTime()}"
            val eventId = client.sendText(roomId, body)
            val messages = eventually<List<Message>>("recent messages of $roomId", timeout = 20.seconds, read = {
                client.recentMessages(roomId, 20u)
            }) { list -> list.any { it.eventId == eventId } }
            val sent = messages.first { it.eventId == eventId }
            assertEquals(body, sent.body)
            assertEquals(session.userId, sent.sender)
            assertEquals(roomId, sent.roomId)
            assertTrue(client.rooms().any { it.roomId == roomId })

            assertEquals(1u, runtimeStats().liveClients, "this test's client must be the only live one")
            val generation = runtimeStats().generation
            val phases = mutableListOf<LifecyclePhase>()
            val report = client.logout(LogoutOptions(serverTimeoutMs = 5_000u, wipeLocalData = true), object : LifecycleListener {
                override fun onPhase(phase: LifecyclePhase, elapsedMs: ULong) {
                    synchronized(phases) { phases += phase }
                }
            })
            assertIs<ServerLogout.Revoked>(report.serverLogout)
            assertEquals(0u, report.storeFilesOpenAfter, "store files still open after logout")
            assertTrue(report.clientDropped, "matrix Client not dropped: ${report.warnings}")
            assertEquals(0u, report.tasksLeftBehind)
            assertTrue(report.dataWiped)
            assertFalse(dataDir.exists(), "data_dir still exists after a wiping logout")
            assertTrue(report.runtimeRestarted, "the last client's logout must restart the runtime")
            assertTrue(report.runtimeGeneration > generation)
            assertEquals(LifecyclePhase.DONE, report.phases.last().phase)
            assertEquals(ClientState.CLOSED, client.state())
            assertTrue(synchronized(phases) { phases.contains(LifecyclePhase.DONE) })
        } finally {
            client.destroy()
        }
    }

    @Test
    fun closeKeepsTheSessionAndRestoreResumesIt() = coreTest {
        awaitNoLiveClients()
        val dataDir = TestEnv.newDataDir()
        val (first, session) = loggedInClient(testConfig(dataDir))
        val roomId = first.closing { client ->
            client.createRoom("kept room", emptyList(), false)
        }
        assertTrue(dataDir.exists(), "close must not wipe data")

        val second = Client.create(testConfig(dataDir))
        second.closing { client ->
            client.restore(session)
            assertEquals(ClientState.LOGGED_IN, client.state())
            assertEquals(session.userId, client.userId())
            assertEquals(session.deviceId, client.session()?.deviceId)
            startSyncAndAwaitRunning(client)
            eventually<List<RoomSummary>>("room $roomId known after restore", timeout = 20.seconds, read = { client.rooms() }) { rooms ->
                rooms.any { it.roomId == roomId }
            }
            val eventId = client.sendText(roomId, "after restore")
            assertTrue(eventId.startsWith("$"))
            val report = client.close(null)
            assertIs<ServerLogout.Skipped>(report.serverLogout)
            assertEquals(0u, report.storeFilesOpenAfter)
            assertFalse(report.dataWiped)
            assertTrue(File(dataDir.absolutePath).exists())
        }
    }

    @Test
    fun shutdownClosesClientsAndTheNextCreateStartsANewGeneration() = coreTest {
        awaitNoLiveClients()
        val (client, _) = loggedInClient()
        try {
            val before = runtimeStats()
            assertEquals(RuntimeState.RUNNING, before.state)
            val report = shutdown(ShutdownOptions(timeoutMs = 5_000u))
            assertEquals(1u, report.clientsClosed)
            assertTrue(report.tasksAbandoned.isEmpty(), "tasks abandoned: ${report.tasksAbandoned}")
            assertFalse(report.alreadyShutDown)
            assertEquals(RuntimeState.SHUT_DOWN, runtimeStats().state)

            assertFailsWith<CoreException.ClientClosed> { client.createRoom("too late", emptyList(), false) }
            assertTrue(shutdown(ShutdownOptions(timeoutMs = 5_000u)).alreadyShutDown)

            val next = Client.create(testConfig())
            next.closing {
                val after = runtimeStats()
                assertEquals(RuntimeState.RUNNING, after.state)
                assertTrue(after.generation > before.generation, "generation ${after.generation} after ${before.generation}")
            }
        } finally {
            client.destroy()
        }
    }
}
