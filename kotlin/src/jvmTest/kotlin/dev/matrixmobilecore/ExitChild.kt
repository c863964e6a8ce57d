package dev.matrixmobilecore

import kotlinx.coroutines.runBlocking

/**
 * The child JVM of [ProcessExitTest]: installs the shutdown hook (the first
 * call must install it, a second must not), logs in and syncs one client,
 * creates another, and returns from `main` with both live. The hook drains
 * them; the core logs each drain to stderr.
 */
fun main() {
    initLogging(LogConfig(filter = "info", toStdout = true, fileDir = null))
    val first = MatrixCore.installShutdownHook()
    val second = MatrixCore.installShutdownHook()
    println("hook installed: $first, again: $second")
    runBlocking {
        val (client, _) = loggedInClient()
        startSyncAndAwaitRunning(client)
        Client.create(testConfig())
        println("live clients: ${runtimeStats().liveClients}")
    }
}
