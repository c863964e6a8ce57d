package dev.matrixmobilecore

import java.io.File
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/** What a child JVM printed. */
data class ChildOutput(val stdout: String, val stderr: String)

/**
 * Runs [mainClass] (a top-level `main` of the test classpath, such as
 * `dev.matrixmobilecore.ExitChildKt`) in a new JVM that loads the same core
 * library, with [env] added to its environment. Fails the test unless it exits
 * with 0 within [timeoutSeconds]; the failure shows its output.
 */
fun runChildJvm(mainClass: String, env: Map<String, String> = emptyMap(), timeoutSeconds: Long = 120): ChildOutput {
    val out = File.createTempFile("mmc-child", ".out")
    val err = File.createTempFile("mmc-child", ".err")
    try {
        val java = File(System.getProperty("java.home"), "bin/java").path
        val builder = ProcessBuilder(
            java,
            "-Djna.library.path=${System.getProperty("jna.library.path")}",
            "-cp", System.getProperty("java.class.path"),
            mainClass,
        ).redirectOutput(out).redirectError(err)
        builder.environment().putAll(env)
        val child = builder.start()
        assertTrue(child.waitFor(timeoutSeconds, TimeUnit.SECONDS), "the child JVM ($mainClass) did not exit")
        val output = ChildOutput(out.readText(), err.readText())
        assertEquals(
            0,
            child.exitValue(),
            "the child JVM ($mainClass) failed:\n${output.stdout}\n${output.stderr.takeLast(4000)}",
        )
        return output
    } finally {
        out.delete()
        err.delete()
    }
}
