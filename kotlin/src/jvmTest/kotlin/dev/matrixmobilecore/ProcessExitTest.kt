package dev.matrixmobilecore

import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/** A JVM that exits with live clients does not abort: its shutdown hook drains them. */
class ProcessExitTest {
    @Test
    fun aJvmThatExitsWithLiveClientsExitsZeroAfterItsHookDrainsThem() {
        val (stdout, stderr) = runChildJvm("dev.matrixmobilecore.ExitChildKt")
        assertTrue("hook installed: true, again: false" in stdout, stdout)
        assertTrue("live clients: 2" in stdout, stdout)
        // The hook's shutdown drained both clients before the JVM ended.
        assertEquals(2, Regex("client drained").findAll(stderr).count(), stderr.takeLast(4000))
        assertFalse("panicked" in stderr, stderr.takeLast(4000))
    }
}
