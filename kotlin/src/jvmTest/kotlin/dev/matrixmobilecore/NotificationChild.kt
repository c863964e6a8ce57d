package dev.matrixmobilecore

import java.io.File
import kotlinx.coroutines.runBlocking

/** What [main] prints before its answer, so the parent finds the line among the log's. */
const val NOTIFICATION_ANSWER = "MMC-NOTIFICATION-ANSWER "

/**
 * The child JVM of [NotificationProcessTest], as a push handler in a process
 * of its own: one `getNotification` on the stores that the parent's client
 * keeps syncing (the request comes in `MMC_NOTIFY_*` variables), then what
 * this process has left. Prints one line: [NOTIFICATION_ANSWER] and
 * tab-separated `key=value` fields (`body` last, as it may hold anything but
 * a newline).
 */
fun main() {
    fun env(name: String) = System.getenv(name) ?: error("$name is not set")
    val dataDir = env("MMC_NOTIFY_DIR")
    val homeserverUrl = TestEnv.homeserverUrl
    val session = Session(
        userId = env("MMC_NOTIFY_USER"),
        deviceId = env("MMC_NOTIFY_DEVICE"),
        accessToken = env("MMC_NOTIFY_TOKEN"),
        refreshToken = null,
        homeserverUrl = homeserverUrl,
    )
    val config = testConfig(File(dataDir), homeserverUrl)
    val started = System.nanoTime()
    val item = runBlocking { getNotification(config, session, env("MMC_NOTIFY_ROOM"), env("MMC_NOTIFY_EVENT")) }
    val elapsedMs = (System.nanoTime() - started) / 1_000_000
    val stats = runtimeStats()
    val fields = listOf(
        "found" to (item != null),
        "sender" to item?.sender,
        "roomId" to item?.roomId,
        "isEncrypted" to item?.isEncrypted,
        "filesOpen" to openFilesUnder(File(dataDir)),
        "liveClients" to stats.liveClients,
        "supervisedTasks" to stats.supervisedTasks.size,
        "aliveTasks" to stats.aliveTasks,
        "elapsedMs" to elapsedMs,
        "body" to item?.body,
    )
    println(NOTIFICATION_ANSWER + fields.joinToString("\t") { (k, v) -> "$k=$v" })
}

/** Files under [dir] that this process has open, from `/proc/self/fd`; -1 where there is no `/proc`. */
private fun openFilesUnder(dir: File): Int {
    val fds = File("/proc/self/fd").listFiles() ?: return -1
    val root = dir.canonicalPath + File.separator
    return fds.count { fd ->
        runCatching { java.nio.file.Files.readSymbolicLink(fd.toPath()).toString() }.getOrNull()?.startsWith(root) == true
    }
}
