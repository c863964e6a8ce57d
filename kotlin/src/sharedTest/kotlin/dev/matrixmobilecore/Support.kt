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
import java.io.IOException
import java.net.HttpURLConnection
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.net.URI
import java.net.URL
import java.security.KeyStore
import java.security.cert.CertificateFactory
import java.util.UUID
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import javax.net.ssl.HttpsURLConnection
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLSocketFactory
import javax.net.ssl.TrustManagerFactory
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

/**
 * Like [coreTest], but the body runs on a thread of its own, and a body still
 * running [grace] after [timeout] fails the test with that thread's stack.
 *
 * For tests of the core's re-entrancy: a deadlock blocks a thread inside a
 * native call, where no coroutine timeout reaches it. The stuck thread is a
 * daemon, left behind; Maven runs each test class in a JVM of its own
 * (`reuseForks=false`), so it cannot stall another class.
 */
fun hangGuardedTest(timeout: Duration = 60.seconds, grace: Duration = 15.seconds, body: suspend CoroutineScope.() -> Unit) {
    val failure = AtomicReference<Throwable?>()
    val done = CountDownLatch(1)
    val worker = thread(isDaemon = true, name = "hang-guarded-test") {
        try {
            runBlocking { withTimeout(timeout) { body() } }
        } catch (t: Throwable) {
            failure.set(t)
        } finally {
            done.countDown()
        }
    }
    if (!done.await((timeout + grace).inWholeMilliseconds, TimeUnit.MILLISECONDS)) {
        val stack = worker.stackTrace.joinToString("\n  at ")
        throw AssertionError("the test hung for ${timeout + grace} (a deadlock in the core?); its thread:\n  at $stack")
    }
    failure.get()?.let { throw it }
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

/**
 * Trusts the test run's CA (`MMC_TLS_DIR/ca.pem`, made by the harness), for the
 * tests' own HTTPS calls: the JVM reads its own trust store, not `SSL_CERT_FILE`
 * (which the core reads on Linux).
 */
private val runCaSocketFactory: SSLSocketFactory by lazy {
    val dir = System.getenv("MMC_TLS_DIR")?.takeIf { it.isNotBlank() }
        ?: error("MMC_TLS_DIR is not set: run the tests through `cargo xtask test`")
    val ca = File(dir, "ca.pem").inputStream().use { CertificateFactory.getInstance("X.509").generateCertificate(it) }
    val store = KeyStore.getInstance(KeyStore.getDefaultType()).apply {
        load(null, null)
        setCertificateEntry("mmc-test-ca", ca)
    }
    val trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm()).apply { init(store) }
    SSLContext.getInstance("TLS").apply { init(null, trust.trustManagers, null) }.socketFactory
}

/** A user registered on the test Synapse. */
data class TestUser(val username: String, val password: String)

/**
 * A request to the client-server API behind the client's back: [method] to
 * [path] (under the homeserver's URL; ids in it escaped with [escaped]), with
 * the JSON [body] if any, as the user of [accessToken] if given. Returns the
 * answer's body; fails unless the server answers 200.
 *
 * The tests' one way to the server: registering users, revoking a token,
 * setting a room's state or a profile, reading what the server keeps.
 */
fun onServer(
    method: String,
    path: String,
    body: String? = null,
    accessToken: String? = null,
    homeserverUrl: String = TestEnv.homeserverUrl,
): String {
    val connection = URL("${homeserverUrl.trimEnd('/')}$path").openConnection() as HttpURLConnection
    (connection as? HttpsURLConnection)?.sslSocketFactory = runCaSocketFactory
    try {
        connection.requestMethod = method
        connection.connectTimeout = 10_000
        connection.readTimeout = 30_000
        accessToken?.let { connection.setRequestProperty("Authorization", "Bearer $it") }
        if (body != null) {
            connection.doOutput = true
            connection.setRequestProperty("Content-Type", "application/json")
            connection.outputStream.use { it.write(body.toByteArray()) }
        }
        val status = connection.responseCode
        if (status != 200) {
            val error = connection.errorStream?.bufferedReader()?.readText()
            throw AssertionError("$method $path failed: HTTP $status $error")
        }
        return connection.inputStream.bufferedReader().readText()
    } finally {
        connection.disconnect()
    }
}

/**
 * Registers a fresh random user (open registration with the dummy flow),
 * without a login: the account has no device until a client logs in.
 */
fun registerUser(homeserverUrl: String = TestEnv.homeserverUrl): TestUser {
    val user = TestUser("kt" + UUID.randomUUID().toString().replace("-", "").take(16), "pw-" + UUID.randomUUID())
    val body = """{"username":"${user.username}","password":"${user.password}","auth":{"type":"m.login.dummy"},"inhibit_login":true}"""
    onServer("POST", "/_matrix/client/v3/register", body, homeserverUrl = homeserverUrl)
    return user
}

/**
 * Ends the session of [accessToken] on the server (`POST /logout`), behind the
 * client's back, so that its next request gets `M_UNKNOWN_TOKEN`.
 */
fun revokeOnServer(accessToken: String, homeserverUrl: String = TestEnv.homeserverUrl) {
    onServer("POST", "/_matrix/client/v3/logout", "{}", accessToken, homeserverUrl)
}

/** [id] (a room or user id) percent-escaped for a path segment of the client-server API. */
fun escaped(id: String): String = java.net.URLEncoder.encode(id, "UTF-8").replace("+", "%20")

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
 * A [SessionStore] kept in [file], standing in for the Keystore entry (or the
 * Keychain item an app shares with its notification extension): each save
 * writes a temporary file beside it and renames it over the last one, so that
 * a reader never sees half a session; [load] reads it, or gives `null` while
 * nothing was saved. Saves are serialized (a client's refresh and a test's own
 * save may meet).
 */
class FileSessionStore(val file: File) : SessionStore {
    @Synchronized
    override fun save(session: Session) {
        val tmp = File(file.path + ".tmp")
        tmp.writeText(
            listOf(session.userId, session.deviceId, session.accessToken, session.refreshToken.orEmpty(), session.homeserverUrl)
                .joinToString("\n"),
        )
        if (!tmp.renameTo(file)) throw IOException("could not rename $tmp over $file")
    }

    override fun load(): Session? {
        if (!file.exists()) return null
        val (userId, deviceId, access, refresh, url) = file.readText().split("\n")
        return Session(userId, deviceId, access, refresh.ifEmpty { null }, url)
    }
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

/** The core's supervised tasks named [name] (`runtimeStats()` lists them as `group::name`). */
fun tasksNamed(name: String): Int = runtimeStats().supervisedTasks.count { it.substringAfterLast("::") == name }

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

/**
 * A TCP proxy on loopback in front of [upstreamUrl]'s host and port, that a
 * test can kill. Bytes pass untouched both ways (TLS included, so [url] keeps
 * the upstream's scheme and the client's TLS settings stay the same). [die]
 * makes the server unreachable for good, as on a phone that lost its network:
 * the listening socket is closed (new connections are refused) and every open
 * connection is cut. [close] does the same.
 */
class TcpProxy(upstreamUrl: String) : AutoCloseable {
    private val upstream: InetSocketAddress
    private val listening = ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))
    private val lock = Any()
    private val open = mutableSetOf<Socket>() // guarded by lock
    private var dead = false // guarded by lock

    /** `scheme://127.0.0.1:PORT`, what the client connects to. */
    val url: String

    init {
        val uri = URI(upstreamUrl.trimEnd('/'))
        val port = if (uri.port != -1) uri.port else if (uri.scheme == "https") 443 else 80
        upstream = InetSocketAddress(uri.host, port)
        url = "${uri.scheme}://127.0.0.1:${listening.localPort}"
        thread(isDaemon = true, name = "tcp-proxy-accept") {
            while (true) {
                val client = runCatching { listening.accept() }.getOrNull() ?: break
                val server = runCatching {
                    Socket().apply { connect(upstream, 5_000) }
                }.getOrNull()
                if (server == null) {
                    client.close()
                    continue
                }
                val kept = synchronized(lock) {
                    if (!dead) {
                        open += client
                        open += server
                    }
                    !dead
                }
                if (!kept) {
                    client.close()
                    server.close()
                    break
                }
                val ended = AtomicInteger()
                pipe(client, server, ended)
                pipe(server, client, ended)
            }
        }
    }

    /**
     * Copies [from] to [to] until [from] ends, then ends [to]'s output (a
     * half close, as TCP passes it on); the second of a pair to end closes
     * both sockets. A socket [die] closed ends both at once.
     */
    private fun pipe(from: Socket, to: Socket, ended: AtomicInteger) =
        thread(isDaemon = true, name = "tcp-proxy-pipe") {
            val buffer = ByteArray(64 * 1024)
            try {
                val input = from.getInputStream()
                val output = to.getOutputStream()
                while (true) {
                    val n = input.read(buffer)
                    if (n < 0) break
                    output.write(buffer, 0, n)
                    output.flush()
                }
                to.shutdownOutput()
            } catch (_: IOException) {
                // Cut (die) or reset: nothing more passes either way.
                runCatching { from.close() }
                runCatching { to.close() }
            }
            if (ended.incrementAndGet() == 2) {
                runCatching { from.close() }
                runCatching { to.close() }
                synchronized(lock) {
                    open -= from
                    open -= to
                }
            }
        }

    /** The server becomes unreachable: new connections are refused, open ones cut. Idempotent. */
    fun die() {
        val cut = synchronized(lock) {
            dead = true
            open.toList().also { open.clear() }
        }
        listening.close()
        cut.forEach { runCatching { it.close() } }
    }

    override fun close() = die()
}
