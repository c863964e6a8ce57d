package dev.matrixmobilecore

import java.net.URI
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/**
 * HTTPS with a private CA on Android, the side of core/tests/tls.rs: the
 * test Synapse as `localhost` (the same server; its certificate names
 * localhost too), a host for which the test app's network security config
 * trusts only the system's roots. Without the run's CA `login` is `Network`
 * naming the refused certificate, and the client stays `CREATED`; with the
 * CA's PEM in `additionalRootCertificates` it logs in and out.
 */
class AndroidTlsTest {
    /** The test Synapse's URL with `localhost` as its host. */
    private val localhostUrl: String
        get() {
            val uri = URI(TestEnv.homeserverUrl.trimEnd('/'))
            check(uri.scheme == "https") { "the instrumented tests expect an HTTPS homeserver, got ${TestEnv.homeserverUrl}" }
            return "https://localhost:${uri.port}"
        }

    @Test
    fun withoutTheCaLoginIsANetworkErrorNamingTheCertificateAndWithItInAdditionalRootsItLogsIn() = coreTest {
        val user = registerUser()
        val untrusting = testConfig(homeserverUrl = localhostUrl)
        val refused = Client.create(untrusting)
        for (attempt in 1..2) {
            val error = assertFailsWith<CoreException.Network>("attempt $attempt: logged in without trusting the CA") {
                refused.login(user.username, user.password, "android-tls")
            }
            assertTrue(
                "TLS certificate" in error.detail && "UnknownIssuer" in error.detail,
                "attempt $attempt: the detail names the refused certificate: ${error.detail}",
            )
            assertTrue(user.password !in error.detail, "the password is in the error")
            assertEquals(ClientState.CREATED, refused.state(), "attempt $attempt: the client stays created")
        }
        refused.close(null)

        val trusting = testConfig(homeserverUrl = localhostUrl).copy(additionalRootCertificates = listOf(TestEnv.caPem))
        val client = Client.create(trusting)
        val session = client.login(user.username, user.password, "android-tls")
        assertTrue(session.homeserverUrl.startsWith("https://"), "over HTTPS: ${session.homeserverUrl}")
        assertEquals(ClientState.LOGGED_IN, client.state())
        val report = client.logout(LogoutOptions(), null)
        assertEquals(0u, report.storeFilesOpenAfter)
    }
}
