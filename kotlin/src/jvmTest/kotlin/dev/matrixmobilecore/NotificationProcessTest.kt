package dev.matrixmobilecore

import java.io.File
import java.util.UUID
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/**
 * `getNotification` as a push handler in another process runs it: the app's
 * client keeps syncing an encrypted room in this JVM while a child JVM
 * ([NotificationChild]) reads a message that a second user sent from the
 * same data_dir, and gets the decrypted body with no store file, task or
 * client left behind; the app's client stays healthy (it still sends and
 * receives, answers a `getNotification` of its own process, and logs out
 * with no store file open).
 */
class NotificationProcessTest {
    /** Child runs, each on a new message; `MMC_NOTIFICATION_RUNS` for more. */
    private val runs = System.getenv("MMC_NOTIFICATION_RUNS")?.toIntOrNull()?.takeIf { it > 0 } ?: 2

    @Test
    fun aChildJvmDecryptsANotificationWhileTheAppKeepsSyncing() = coreTest(240.seconds) {
        awaitNoLiveClients()
        val dir = TestEnv.newDataDir()
        val (alice, aliceSession) = loggedInClient(testConfig(dir))
        val (bob, bobSession) = loggedInClient()
        try {
            val roomId = encryptedRoomOfTwo(alice, bob, bobSession.userId)
            repeat(runs) { i ->
                val body = "for your eyes only $i ${UUID.randomUUID()}"
                val eventId = bob.sendText(roomId, body)
                // As when the push arrives after the app got the room key.
                awaitMessage(alice, roomId, body)
                val answer = inChildJvm(dir, aliceSession, roomId, eventId)
                assertEquals(body, answer["body"], "run $i: $answer")
                assertEquals(bobSession.userId, answer["sender"], "run $i: $answer")
                assertEquals(roomId, answer["roomId"], "run $i: $answer")
                assertEquals("true", answer["isEncrypted"], "run $i: $answer")
                // What the child had left when getNotification returned.
                assertEquals("0", answer["filesOpen"], "run $i: $answer")
                assertEquals("0", answer["liveClients"], "run $i: $answer")
                assertEquals("0", answer["supervisedTasks"], "run $i: $answer")
                assertEquals("0", answer["aliveTasks"], "run $i: $answer")
                assertEquals(SyncState.RUNNING, alice.syncState(), "run $i: the app's sync")
            }

            // The app kept working through it, both ways.
            val mine = "still here ${UUID.randomUUID()}"
            alice.sendText(roomId, mine)
            awaitMessage(bob, roomId, mine)
            val theirs = "and after ${UUID.randomUUID()}"
            bob.sendText(roomId, theirs)
            awaitMessage(alice, roomId, theirs)

            // In this JVM the directory belongs to alice's live client, which answers.
            val here = "in the app's process ${UUID.randomUUID()}"
            val hereId = bob.sendText(roomId, here)
            awaitMessage(alice, roomId, here)
            assertEquals(here, getNotification(testConfig(dir), aliceSession, roomId, hereId)?.body)

            assertEquals(0u, alice.logout(LogoutOptions(), null).storeFilesOpenAfter, "alice's store files after logout")
            assertEquals(0u, bob.logout(LogoutOptions(), null).storeFilesOpenAfter, "bob's store files after logout")
        } finally {
            alice.destroy()
            bob.destroy()
            dir.deleteRecursively()
        }
    }

    /** Runs [NotificationChild] in a new JVM for [eventId]; returns its answer's fields. */
    private fun inChildJvm(dir: File, session: Session, roomId: String, eventId: String): Map<String, String> {
        val (stdout, stderr) = runChildJvm(
            "dev.matrixmobilecore.NotificationChildKt",
            mapOf(
                "MMC_NOTIFY_DIR" to dir.absolutePath,
                "MMC_NOTIFY_USER" to session.userId,
                "MMC_NOTIFY_DEVICE" to session.deviceId,
                "MMC_NOTIFY_TOKEN" to session.accessToken,
                "MMC_NOTIFY_ROOM" to roomId,
                "MMC_NOTIFY_EVENT" to eventId,
            ),
            timeoutSeconds = 90,
        )
        val line = stdout.lines().firstOrNull { it.startsWith(NOTIFICATION_ANSWER) }
            ?: throw AssertionError("no answer from the child JVM:\n$stdout\n${stderr.takeLast(4000)}")
        return line.removePrefix(NOTIFICATION_ANSWER).split("\t").associate {
            it.substringBefore("=") to it.substringAfter("=")
        }
    }
}
