// A JVM app that uses core-jvm as a library user would: from its coordinates
// alone. It registers a user on the homeserver in MMC_HOMESERVER_URL, signs
// in, syncs, sends a message, signs out and shuts the core down, checking
// what the core reports at each step. Exits non-zero on the first failure.
package dev.matrixmobilecore.consumer

import dev.matrixmobilecore.Client
import dev.matrixmobilecore.ClientConfig
import dev.matrixmobilecore.LogoutOptions
import dev.matrixmobilecore.ShutdownOptions
import dev.matrixmobilecore.SyncState
import dev.matrixmobilecore.runtimeStats
import dev.matrixmobilecore.shutdown
import dev.matrixmobilecore.syncStateIn
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import java.io.File
import java.net.HttpURLConnection
import java.net.URI
import java.nio.file.Files
import java.security.KeyStore
import java.security.cert.CertificateFactory
import java.util.UUID
import javax.net.ssl.HttpsURLConnection
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLSocketFactory
import javax.net.ssl.TrustManagerFactory
import kotlin.system.exitProcess

fun main() {
    try {
        runBlocking { withTimeout(120_000) { run() } }
    } catch (e: Throwable) {
        System.err.println("jvm consumer: FAILED: $e")
        e.printStackTrace()
        exitProcess(1)
    }
    println("jvm consumer: ok")
    println("jvm consumer: 1 passed, 0 failed")
}

private suspend fun run() {
    val homeserver = System.getenv("MMC_HOMESERVER_URL")?.takeIf { it.isNotBlank() }
        ?: error("MMC_HOMESERVER_URL is not set")
    // The library must come from the jar, not from a path given to JNA.
    check(System.getProperty("jna.library.path") == null) { "jna.library.path is set" }

    val (username, password) = register(homeserver)
    val dataDir = Files.createTempDirectory("mmc-jvm-consumer-").toAbsolutePath().toString()
    val client = Client.create(ClientConfig(homeserverUrl = homeserver, dataDir = dataDir))
    val session = client.login(username, password, "jvm consumer")
    println("jvm consumer: logged in as ${session.userId}")

    // The scope that keeps the sync StateFlow hot; a view model's scope in an app.
    val syncScope = CoroutineScope(Dispatchers.Default)
    try {
        val sync = client.syncStateIn(syncScope)
        client.startSync()
        withTimeout(30_000) { sync.first { it == SyncState.RUNNING } }
        val roomId = client.createRoom("jvm consumer", emptyList(), false)
        client.sendText(roomId, "hello from core-jvm")
        // The room list follows sync: wait for the new room to show up in it.
        withTimeout(30_000) {
            while (client.rooms().none { it.roomId == roomId }) delay(50)
        }
        println("jvm consumer: sent a message in $roomId")

        val report = client.logout(LogoutOptions(), null)
        check(report.clientDropped) { "client_dropped is false: $report" }
        check(report.storeFilesOpenAfter == 0u) { "store files still open: $report" }
        withTimeout(10_000) { sync.first { it == SyncState.TERMINATED } }
        println("jvm consumer: logged out in ${report.totalMs} ms, ${report.storeFilesOpenAfter} store files open, client dropped")
    } finally {
        syncScope.cancel() // the StateFlow released its listener at TERMINATED already
    }
    client.close() // frees the handle (the drain is done: logout returned)

    val shutdown = shutdown(ShutdownOptions())
    check(shutdown.tasksAbandoned.isEmpty()) { "tasks abandoned at shutdown: ${shutdown.tasksAbandoned}" }
    check(runtimeStats().liveClients == 0u) { "clients still live after shutdown" }
    println("jvm consumer: shut down in ${shutdown.totalMs} ms")
}

/**
 * The test run's CA (`MMC_TLS_DIR/ca.pem`) for this registration call: the JVM
 * reads its own trust store, not `SSL_CERT_FILE`, which the core reads on Linux.
 */
private fun testCaSocketFactory(): SSLSocketFactory {
    val dir = System.getenv("MMC_TLS_DIR")?.takeIf { it.isNotBlank() } ?: error("MMC_TLS_DIR is not set")
    val ca = File(dir, "ca.pem").inputStream().use { CertificateFactory.getInstance("X.509").generateCertificate(it) }
    val store = KeyStore.getInstance(KeyStore.getDefaultType()).apply {
        load(null, null)
        setCertificateEntry("mmc-test-ca", ca)
    }
    val trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm()).apply { init(store) }
    return SSLContext.getInstance("TLS").apply { init(null, trust.trustManagers, null) }.socketFactory
}

/** Registers a fresh user with open registration (the m.login.dummy flow), as the tests do. */
private fun register(homeserver: String): Pair<String, String> {
    val username = "jvmconsumer" + UUID.randomUUID().toString().replace("-", "").take(12)
    val password = "pw-" + UUID.randomUUID()
    val body = """{"username":"$username","password":"$password","auth":{"type":"m.login.dummy"}}"""
    val connection = URI("${homeserver.trimEnd('/')}/_matrix/client/v3/register").toURL().openConnection() as HttpURLConnection
    (connection as? HttpsURLConnection)?.sslSocketFactory = testCaSocketFactory()
    try {
        connection.requestMethod = "POST"
        connection.doOutput = true
        connection.setRequestProperty("Content-Type", "application/json")
        connection.outputStream.use { it.write(body.toByteArray()) }
        check(connection.responseCode == 200) {
            "registering $username: HTTP ${connection.responseCode} ${connection.errorStream?.bufferedReader()?.readText()}"
        }
    } finally {
        connection.disconnect()
    }
    return username to password
}
