package dev.matrixmobilecore

import com.sun.net.httpserver.HttpServer
import java.net.InetSocketAddress
import java.util.concurrent.CopyOnWriteArrayList

/** The path Synapse posts to on an HTTP pusher's gateway. */
const val NOTIFY_PATH = "/_matrix/push/v1/notify"

/**
 * A push gateway of the test's own: keeps each body Synapse posts. JVM only:
 * the JDK's HTTP server on loopback, which Synapse may reach (the harness
 * allows it).
 */
class PushGateway : AutoCloseable {
    private val server: HttpServer = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
    val posts = CopyOnWriteArrayList<String>()

    init {
        server.createContext(NOTIFY_PATH) { exchange ->
            posts.add(exchange.requestBody.readBytes().decodeToString())
            val answer = """{"rejected":[]}""".toByteArray()
            exchange.responseHeaders.add("Content-Type", "application/json")
            exchange.sendResponseHeaders(200, answer.size.toLong())
            exchange.responseBody.use { it.write(answer) }
        }
        server.start()
    }

    val url: String get() = "http://127.0.0.1:${server.address.port}$NOTIFY_PATH"

    /** The bodies posted for [eventId]. */
    fun postsOf(eventId: String): List<String> = posts.filter { "\"$eventId\"" in it }

    override fun close() = server.stop(0)
}

/** An HTTP pusher to [gatewayUrl] under [pushkey]. */
fun testPusher(gatewayUrl: String, pushkey: String) = PusherConfig(
    appId = "org.example.mmc.kotlin",
    pushkey = pushkey,
    gatewayUrl = gatewayUrl,
    deviceName = "kotlin test",
    lang = "en",
)
