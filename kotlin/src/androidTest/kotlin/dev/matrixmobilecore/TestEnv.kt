package dev.matrixmobilecore

import android.system.Os
import androidx.test.platform.app.InstrumentationRegistry
import java.io.File
import java.util.UUID

/**
 * The Android side of the shared tests' environment. The homeserver comes
 * from the instrumentation argument `homeserverUrl`, passed with
 * `-Pandroid.testInstrumentationRunnerArguments.homeserverUrl=...`: the
 * runner's Synapse over HTTPS, `https://127.0.0.1:PORT` (android.yml forwards
 * the emulator's port to the runner's with `adb reverse`). Data directories
 * live under the test app's cache directory.
 *
 * TLS: the test app trusts the run's CA for 127.0.0.1 through its network
 * security config (`res/xml/network_security_config.xml`, the CA being the
 * raw resource `mmc_test_ca`), so the core trusts the homeserver as it
 * would behind a CA installed on the device. The shared tests' own HTTPS
 * calls read the CA from `MMC_TLS_DIR/ca.pem`, as on the JVM: this object
 * writes the resource there and sets `MMC_TLS_DIR` in the process's
 * environment (Android's `System.getenv` reads it live) before any of them
 * runs, since every test reaches this object first.
 */
object TestEnv {
    private val context by lazy {
        InstrumentationRegistry.getInstrumentation().targetContext.also { AndroidPlatform.init(it) }
    }

    /** The run's CA as PEM text (the raw resource `mmc_test_ca`); fails the test when it is missing. */
    val caPem: String by lazy {
        val id = context.resources.getIdentifier("mmc_test_ca", "raw", context.packageName)
        check(id != 0) { "the test APK has no raw resource mmc_test_ca: copy the harness's ca.pem to src/androidTest/res/raw/mmc_test_ca.pem" }
        context.resources.openRawResource(id).bufferedReader().use { it.readText() }
            .also { check("-----BEGIN CERTIFICATE-----" in it) { "res/raw/mmc_test_ca.pem holds no certificate" } }
    }

    init {
        val dir = File(context.cacheDir, "mmc-tls").apply { mkdirs() }
        File(dir, "ca.pem").writeText(caPem)
        Os.setenv("MMC_TLS_DIR", dir.absolutePath, true)
    }

    /** The test Synapse's base URL; fails the test when it is not set. */
    val homeserverUrl: String by lazy {
        InstrumentationRegistry.getArguments().getString("homeserverUrl")?.takeIf { it.isNotBlank() }
            ?: error("instrumentation argument homeserverUrl is not set")
    }

    /** A fresh, empty directory for one client's stores. */
    fun newDataDir(): File =
        File(context.cacheDir, "mmc-${UUID.randomUUID()}").apply { check(mkdirs()) { "cannot create $this" } }
}
