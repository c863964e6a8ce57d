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
        val other = Client.create(testConfig())
        println("live clients: ${runtimeStats().liveClients}")
        // Both stay reachable until the count is read: a client the JVM
        // collects before that is released, and the count is one less.
        java.lang.ref.Reference.reachabilityFence(client)
        java.lang.ref.Reference.reachabilityFence(other)
    }
}
