package dev.matrixmobilecore

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import java.io.File
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URL
import java.util.UUID
import kotlin.concurrent.thread
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

// Helpers shared by the JVM and the instrumented tests. Only java.* APIs that
// Android also has (no java.net.http, no java.nio.file).

/** Runs a test body with a real-time bound (virtual time would skip the core's real waits). */
fun coreTest(timeout: Duration = 90.seconds, body: suspend CoroutineScope.() -> Unit) {
    runBlocking { withTimeout(timeout) { body() } }
}

/** Polls [condition] every 10 ms until it holds; fails after [timeout] with [what] and the last value seen. */
suspend fun <T> eventually(what: String, timeout: Duration = 10.seconds, read: suspend () -> T, condition: (T) -> Boolean): T {
    val start = TimeSource.Monotonic.markNow()
    while (true) {
        val value = read()
        if (condition(value)) return value
        if (start.elapsedNow() > timeout) throw AssertionError("$what: still $value after $timeout")
        delay(10)
    }
}

/** A user registered on the test Synapse. */
data class TestUser(val username: String, val password: String)

/** Registers a fresh random user (open registration with the dummy flow). */
fun registerUser(homeserverUrl: String = TestEnv.homeserverUrl): TestUser {
    val user = TestUser("kt" + UUID.randomUUID().toString().replace("-", "").take(16), "pw-" + UUID.randomUUID())
    val body = """{"username":"${user.username}","password":"${user.password}","auth":{"type":"m.login.dummy"}}"""
    val connection = URL("${homeserverUrl.trimEnd('/')}/_matrix/client/v3/register").openConnection() as HttpURLConnection
    try {
        connection.requestMethod = "POST"
        connection.doOutput = true
        connection.connectTimeout = 10_000
        connection.readTimeout = 30_000
        connection.setRequestProperty("Content-Type", "application/json")
        connection.outputStream.use { it.write(body.toByteArray()) }
        val status = connection.responseCode
        if (status != 200) {
            val error = connection.errorStream?.bufferedReader()?.readText()
            throw AssertionError("registering ${user.username} failed: HTTP $status $error")
        }
    } finally {
        connection.disconnect()
    }
    return user
}

/** A config for a new client on the test Synapse with its own empty data directory. */
fun testConfig(dataDir: File = TestEnv.newDataDir(), homeserverUrl: String = TestEnv.homeserverUrl) =
    ClientConfig(homeserverUrl = homeserverUrl, dataDir = dataDir.absolutePath, storePassphrase = null, requestTimeoutMs = 30_000u)

/** A new client, logged in as a freshly registered user. */
suspend fun loggedInClient(config: ClientConfig = testConfig()): Pair<Client, Session> {
    val user = registerUser(config.homeserverUrl)
    val client = Client.create(config)
    val session = client.login(user.username, user.password, "kotlin-test")
    return client to session
}

/**
 * Starts sync and waits for [SyncState.RUNNING], observing from before the start
 * so that no transition can be missed.
 */
suspend fun startSyncAndAwaitRunning(client: Client) {
    coroutineScope {
        val running = async(start = CoroutineStart.UNDISPATCHED) {
            client.syncStates().first { it == SyncState.RUNNING }
        }
        client.startSync()
        withTimeout(30_000) { running.await() }
    }
}

/** Waits until no client is alive in the core: earlier tests' background closes have finished. */
suspend fun awaitNoLiveClients() {
    eventually<UInt>("live clients", timeout = 30.seconds, read = { runtimeStats().liveClients }) { it == 0u }
}

/**
 * A TCP server on loopback that accepts connections and never answers, so that
 * a request to it stays in flight until it is cancelled. Close it when done.
 */
class SilentServer : AutoCloseable {
    private val socket = ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))
    private val held = mutableListOf<java.net.Socket>()
    val url: String = "http://127.0.0.1:${socket.localPort}"

    init {
        thread(isDaemon = true, name = "silent-server") {
            while (!socket.isClosed) {
                val accepted = runCatching { socket.accept() }.getOrNull() ?: break
                synchronized(held) { held += accepted }
            }
        }
    }

    override fun close() {
        socket.close()
        synchronized(held) { held.forEach { runCatching { it.close() } } }
    }
}
