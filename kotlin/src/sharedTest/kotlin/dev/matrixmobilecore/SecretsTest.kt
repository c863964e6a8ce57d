package dev.matrixmobilecore

import kotlin.test.Test
import kotlin.test.assertTrue

/**
 * No secret reaches the text of a record: the generated `toString()` of [Session], [ClientConfig]
 * and [PusherConfig] shows who and where, never the tokens, the store passphrase or the pushkey (an
 * app that logs a session, or a crash report that formats one, leaks nothing).
 */
class SecretsTest {
    private val access = "syt_access_token_secret_0123"
    private val refresh = "syr_refresh_token_secret_4567"
    private val passphrase = "store passphrase secret 89"
    private val pushkey = "fcm-registration-token-secret-abcdef"
    private val secrets = listOf(access, refresh, passphrase, pushkey)

    private fun assertShowsNoSecret(record: Any, shown: String) {
        for (text in listOf(record.toString(), "$record", listOf(record).toString())) {
            val leaked = secrets.filter { it in text }
            assertTrue(leaked.isEmpty(), "${record::class.simpleName} printed $leaked: $text")
            assertTrue(shown in text, "${record::class.simpleName} printed nothing useful: $text")
        }
    }

    @Test
    fun recordsPrintNoSecret() {
        assertShowsNoSecret(
            Session("@alice:localhost", "ALICEDEVICE", access, refresh, "https://matrix.example.org"),
            "@alice:localhost",
        )
        assertShowsNoSecret(
            ClientConfig("https://matrix.example.org", "/data/alice", storePassphrase = passphrase),
            "/data/alice",
        )
        assertShowsNoSecret(
            PusherConfig(
                "org.example.chat",
                pushkey,
                "https://push.example.org/_matrix/push/v1/notify",
                "Pixel",
                "en",
            ),
            "org.example.chat",
        )
    }
}
