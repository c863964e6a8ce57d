package dev.matrixmobilecore

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import kotlin.test.Test
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/** Cancelling a suspended call from Kotlin ends its work in the core. */
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
     * Releasing the handle while a call on it is in flight must neither crash
     * nor leak: the call keeps the client alive until it ends, then the core
     * closes the client in the background.
     */
    @Test
    fun releasingAClientRightAfterStartingACallThousandTimes() = coreTest(timeout = 10.minutes) {
        awaitNoLiveClients()
        val iterations = System.getProperty("mmc.releaseIterations")?.toInt() ?: 1_000
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
