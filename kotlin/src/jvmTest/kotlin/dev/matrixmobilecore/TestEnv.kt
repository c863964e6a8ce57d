package dev.matrixmobilecore

import java.io.File
import java.nio.file.Files

/**
 * The JVM side of the shared tests' environment: the homeserver comes from
 * MMC_HOMESERVER_URL (set by `cargo xtask test`), data directories are temporary.
 */
object TestEnv {
    /** The test Synapse's base URL; fails the test when it is not set. */
    val homeserverUrl: String by lazy {
        System.getenv("MMC_HOMESERVER_URL")?.takeIf { it.isNotBlank() }
            ?: error("MMC_HOMESERVER_URL is not set: run the tests through `cargo xtask test`")
    }

    /** A fresh, empty directory for one client's stores. */
    fun newDataDir(): File = Files.createTempDirectory("mmc-kotlin-").toFile()
}
