package dev.matrixmobilecore

import com.sun.jna.Library
import com.sun.jna.Native
import java.io.File
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/** The C library's environment, which the core reads (the JVM's `System.getenv` is a copy made at start). */
internal interface CEnvironment : Library {
    fun setenv(name: String, value: String, overwrite: Int): Int
    fun unsetenv(name: String): Int
}

/**
 * HTTPS with a private CA, from Kotlin: the JVM side of core/tests/tls.rs and
 * python/tests/test_tls.py. A client that does not trust the run's CA fails
 * `login` with `Network` naming the refused certificate and stays `Created`;
 * the same config with the CA's PEM in `additionalRootCertificates` logs in.
 *
 * The platform's roots are what the core reads on Linux when a client is
 * created: `SSL_CERT_FILE`, which `cargo xtask test` points at the system's
 * bundle plus the run's CA. Each client here is created while it points at
 * `unrelated-ca.pem` (a CA that signs nothing), so the CA in the config is the
 * only way to trust Synapse. JVM only: it needs `MMC_TLS_DIR` and the process's
 * C environment.
 */
class TlsTest {
    private val environment: CEnvironment = Native.load("c", CEnvironment::class.java)

    private val tlsDir: File by lazy {
        File(System.getenv("MMC_TLS_DIR")?.takeIf { it.isNotBlank() }
            ?: error("MMC_TLS_DIR is not set: run the tests through `cargo xtask test`"))
    }

    /**
     * Creates a client of [config] while `SSL_CERT_FILE` is `unrelated-ca.pem`,
     * then puts the variable back (the core reads it only while it creates).
     */
    private suspend fun createUntrusting(config: ClientConfig): Client {
        val previous = System.getenv("SSL_CERT_FILE")
        check(environment.setenv("SSL_CERT_FILE", File(tlsDir, "unrelated-ca.pem").path, 1) == 0) { "setenv failed" }
        try {
            return Client.create(config)
        } finally {
            if (previous != null) environment.setenv("SSL_CERT_FILE", previous, 1) else environment.unsetenv("SSL_CERT_FILE")
        }
    }

    @Test
    fun withoutTheCaLoginIsANetworkErrorNamingTheCertificateAndWithItInTheConfigItLogsIn() = coreTest(60.seconds) {
        awaitNoLiveClients()
        val user = registerUser()
        val dataDir = TestEnv.newDataDir()
        val untrusting = testConfig(dataDir).copy(additionalRootCertificates = emptyList())
        try {
            val refused = createUntrusting(untrusting)
            refused.closing {
                repeat(2) { attempt ->
                    val error = assertFailsWith<CoreException.Network>("attempt $attempt: login without the CA") {
                        refused.login(user.username, user.password, "kotlin-tls")
                    }
                    assertTrue(
                        error.detail.contains("TLS certificate") && error.detail.contains("UnknownIssuer"),
                        "attempt $attempt: the detail names the refused certificate: ${error.detail}",
                    )
                    assertFalse(error.detail.contains(user.password), "the password is in the error: ${error.detail}")
                    assertEquals(ClientState.CREATED, refused.state(), "attempt $attempt: the client stays Created")
                }
            }

            val ca = File(tlsDir, "ca.pem").readText()
            val trusting = createUntrusting(untrusting.copy(additionalRootCertificates = listOf(ca)))
            try {
                val session = trusting.login(user.username, user.password, "kotlin-tls")
                assertTrue(session.homeserverUrl.startsWith("https://"), "over HTTPS: ${session.homeserverUrl}")
                assertEquals(ClientState.LOGGED_IN, trusting.state())
                val report = trusting.logout(LogoutOptions(serverTimeoutMs = 5_000u, wipeLocalData = true), null)
                assertEquals(ServerLogout.Revoked, report.serverLogout, "the logout reached the server: $report")
                assertEquals(0u, report.storeFilesOpenAfter, "store files still open after logout")
            } finally {
                trusting.destroy()
            }
        } finally {
            dataDir.deleteRecursively()
        }
    }
}
