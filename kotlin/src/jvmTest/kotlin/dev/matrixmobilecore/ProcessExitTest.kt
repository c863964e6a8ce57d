package dev.matrixmobilecore

import java.io.File
import java.util.concurrent.TimeUnit
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/** A JVM that exits with live clients does not abort: its shutdown hook drains them. */
class ProcessExitTest {
    @Test
    fun aJvmThatExitsWithLiveClientsExitsZeroAfterItsHookDrainsThem() {
        val out = File.createTempFile("mmc-exit-child", ".out")
        val err = File.createTempFile("mmc-exit-child", ".err")
        try {
            val java = File(System.getProperty("java.home"), "bin/java").path
            val child = ProcessBuilder(
                java,
                "-Djna.library.path=${System.getProperty("jna.library.path")}",
                "-cp", System.getProperty("java.class.path"),
                "dev.matrixmobilecore.ExitChildKt",
            ).redirectOutput(out).redirectError(err).start()
            assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the child JVM did not exit")
            val stdout = out.readText()
            val stderr = err.readText()
            assertEquals(0, child.exitValue(), "the child JVM failed:\n$stdout\n${stderr.takeLast(4000)}")
            assertTrue("hook installed: true, again: false" in stdout, stdout)
            assertTrue("live clients: 2" in stdout, stdout)
            // The hook's shutdown drained both clients before the JVM ended.
            assertEquals(2, Regex("client drained").findAll(stderr).count(), stderr.takeLast(4000))
            assertFalse("panicked" in stderr, stderr.takeLast(4000))
        } finally {
            out.delete()
            err.delete()
        }
    }
}
