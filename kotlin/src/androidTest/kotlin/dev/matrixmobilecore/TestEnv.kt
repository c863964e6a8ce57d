package dev.matrixmobilecore

import androidx.test.platform.app.InstrumentationRegistry
import java.io.File
import java.util.UUID

/**
 * The Android side of the shared tests' environment. The homeserver comes
 * from the instrumentation argument `homeserverUrl` (the runner's Synapse is
 * http://10.0.2.2:PORT from the emulator), passed with
 * `-Pandroid.testInstrumentationRunnerArguments.homeserverUrl=...`.
 * Data directories live under the test app's cache directory.
 */
object TestEnv {
    private val context by lazy {
        InstrumentationRegistry.getInstrumentation().targetContext.also { AndroidPlatform.init(it) }
    }

    /** The test Synapse's base URL; fails the test when it is not set. */
    val homeserverUrl: String by lazy {
        context // initialises the platform before the first client
        InstrumentationRegistry.getArguments().getString("homeserverUrl")?.takeIf { it.isNotBlank() }
            ?: error("instrumentation argument homeserverUrl is not set")
    }

    /** A fresh, empty directory for one client's stores. */
    fun newDataDir(): File =
        File(context.cacheDir, "mmc-${UUID.randomUUID()}").apply { check(mkdirs()) { "cannot create $this" } }
}
