package dev.matrixmobilecore

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeoutOrNull
import java.io.File
import java.util.UUID
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicReference
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * Rooms and people from Kotlin against the real Synapse (the Rust tests
 * `core/tests/people.rs` and its `people/` files): rooms created with options and read back, both
 * from the client and from the server; direct messages; one room followed
 * with [roomSummaries] (RoomFlows.kt); declined invites; members with their
 * power and role, and moderation, refused with a 403 without power; profiles
 * and the user directory; ignoring and reporting; the account's devices,
 * another one signed out with the password.
 */
class PeopleTest {
    /** Every emission of [flow], collected on a core-independent thread until the flow completes. */
    private class Recorder<T>(scope: CoroutineScope, flow: kotlinx.coroutines.flow.Flow<T>) {
        val seen = CopyOnWriteArrayList<T>()
        val done: Deferred<Unit> = scope.async(Dispatchers.Default) { flow.collect { seen += it } }
        fun last(): T? = seen.lastOrNull()

        /** Fails unless the flow completed normally (its end signal) within [timeout]. */
        suspend fun assertCompletes(what: String, timeout: Duration = 15.seconds) {
            assertNotNull(withTimeoutOrNull(timeout) { done.await() }, "$what did not complete at the end signal")
        }
    }

    /** An 8 x 8 RGB PNG, small enough to live here (the shared tests read no repository file). */
    private val png: ByteArray =
        (
            "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc000000114944415478da633068388015310c2d0900ced55c" +
                "010078193c0000000049454e44ae426082"
            ).chunked(2).map { it.toInt(16).toByte() }.toByteArray()

    /** Writes the PNG into [dir]; its path. */
    private fun pngIn(dir: File): String = File(dir, "avatar.png").apply { writeBytes(png) }.absolutePath

    /** A file that is not an image, in [dir]; its path. */
    private fun textIn(dir: File): String = File(dir, "notes.txt").apply { writeText("hello") }.absolutePath

    /** The options of a plain private room; `copy` them for the rest. */
    private val plain = CreateRoomOptions(visibility = RoomVisibility.PRIVATE, preset = RoomPreset.PRIVATE_CHAT)

    /** The descriptor of an encrypted file (keys of zeros), as in the Rust test. */
    private val encryptedSource =
        """{"file":{"url":"mxc://localhost/file","key":{"kty":"oct","key_ops":["encrypt","decrypt"],"alg":"A256CTR",""" +
            """"k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ext":true},"iv":"AAAAAAAAAAAAAAAAAAAAAA",""" +
            """"hashes":{"sha256":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"v":"v2"}}"""

    /** A user id on the test server that nobody registered. */
    private fun nobodyOn(server: String) = "@nobody${UUID.randomUUID().toString().take(8)}:$server"

    /** A name nobody else in this run uses. */
    private fun fresh(prefix: String) = prefix + UUID.randomUUID().toString().replace("-", "").take(10)

    /** Fails unless [block] is refused by the server with 403 (`CoreException.Server`, not `Auth`). */
    private suspend fun assertForbidden(what: String, block: suspend () -> Unit) {
        val refused = assertFailsWith<CoreException.Server>(what) { block() }
        assertEquals(403.toUShort(), refused.status, "$what: $refused")
    }

    /** The room's join rule, as the server keeps it (read as a member, with [accessToken]). */
    private fun joinRule(roomId: String, accessToken: String): String? {
        val content = onServer("GET", "/_matrix/client/v3/rooms/${escaped(roomId)}/state/m.room.join_rules", accessToken = accessToken)
        return Regex(""""join_rule"\s*:\s*"([^"]*)"""").find(content)?.groupValues?.get(1)
    }

    /** Waits until [client] knows [roomId] with [membership]. */
    private suspend fun awaitMembership(client: Client, roomId: String, membership: Membership) {
        eventually("$roomId $membership", timeout = 30.seconds, read = { runCatching { client.room(roomId).membership }.getOrNull() }) {
            it == membership
        }
    }

    @Test
    fun aRoomCreatedWithOptionsReadsAsAskedAndAnInviteIsDeclined() = coreTest(150.seconds) {
        awaitNoLiveClients()
        val (alice, aliceSession) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        val dir = TestEnv.newDataDir()
        try {
            val (aliceId, bobId) = aliceSession.userId to bobSession.userId
            val server = aliceId.substringAfter(':')
            alice.startSync()
            bob.startSync()
            // An avatar already on the server: alice's own, through her profile.
            alice.setAvatar(pngIn(dir), null)
            val avatar = assertNotNull(alice.profile(aliceId).avatar, "alice's avatar")

            val alias = fresh("ktopts")
            val roomId = alice.createRoomWith(
                CreateRoomOptions(
                    visibility = RoomVisibility.PUBLIC,
                    preset = RoomPreset.PUBLIC_CHAT,
                    name = "Options",
                    topic = "what the room is for",
                    invite = listOf(bobId),
                    encrypted = true,
                    aliasLocalPart = alias,
                    avatar = avatar,
                ),
            )
            // Read at once, as createRoomWith promises while sync runs.
            val summary = alice.room(roomId)
            assertEquals("Options", summary.name, "$summary")
            assertTrue(summary.isEncrypted, "$summary")
            assertFalse(summary.isDirect, "$summary")
            eventually("the topic and avatar", timeout = 30.seconds, read = { alice.room(roomId) }) {
                it.topic == "what the room is for" && it.avatar?.url == avatar.url
            }
            // The server's side: the public preset lets anyone join. (Whether
            // the room is listed in the directory cannot be read here:
            // Synapse's default `room_list_publication_rules` refuses every
            // publication, silently.)
            assertEquals("public", joinRule(roomId, aliceSession.accessToken))
            // Bob joins by the alias.
            assertEquals(roomId, bob.joinRoom("#$alias:$server"))

            // The defaults' other side: private, unencrypted, direct.
            val direct = alice.createRoomWith(plain.copy(name = "plain", invite = listOf(bobId), isDirect = true, encrypted = false))
            val plainSummary = alice.room(direct)
            assertFalse(plainSummary.isEncrypted, "$plainSummary")
            assertTrue(plainSummary.isDirect, "$plainSummary")
            assertEquals("invite", joinRule(direct, aliceSession.accessToken))

            // Bob declines that invite: matrix-sdk forgets the room. The
            // sync that follows (its leave) may bring it back as a left room
            // when it arrives after the forgetting; either is fine, an invite
            // or a joined room is not.
            awaitMembership(bob, direct, Membership.INVITED)
            bob.declineInvite(direct)
            fun declined(now: Result<RoomSummary>) =
                now.exceptionOrNull() is CoreException.NotFound || now.getOrNull()?.membership == Membership.LEFT
            eventually("the declined invite gone or left", timeout = 30.seconds, read = { runCatching { bob.room(direct) } }) {
                declined(it)
            }
            repeat(30) {
                delay(100)
                val now = runCatching { bob.room(direct) }
                assertTrue(declined(now), "the declined invite is back after ${it * 100} ms: $now")
            }
            // Declining again: forgotten (NotFound), or left (no invite any more).
            val again = runCatching { bob.declineInvite(direct) }.exceptionOrNull()
            assertTrue(again is CoreException.NotFound || again is CoreException.InvalidState, "declining again: $again")
            assertFailsWith<CoreException.InvalidState>("declining a joined room") { alice.declineInvite(direct) }

            // Bad input is refused before the server hears of it.
            for (bad in listOf("", "has space", "with:colon", "#hash")) {
                assertFailsWith<CoreException.InvalidArgument>("alias \"$bad\"") { alice.createRoomWith(plain.copy(aliasLocalPart = bad)) }
            }
            assertFailsWith<CoreException.InvalidArgument>("a bad invite") { alice.createRoomWith(plain.copy(invite = listOf("not a user id"))) }
            assertFailsWith<CoreException.InvalidArgument>("an encrypted avatar") {
                alice.createRoomWith(plain.copy(avatar = avatar.copy(descriptor = encryptedSource)))
            }
            // An alias already taken is the server's refusal, typed.
            val taken = assertFailsWith<CoreException.Server>("a taken alias") { alice.createRoomWith(plain.copy(aliasLocalPart = alias)) }
            assertEquals(400.toUShort(), taken.status, "$taken")

            alice.logout(LogoutOptions(), null)
            bob.logout(LogoutOptions(), null)
        } finally {
            alice.destroy()
            bob.destroy()
            dir.deleteRecursively()
        }
    }

    @Test
    fun startDmMakesOneEncryptedDirectRoomAndFindsItAgain() = coreTest(150.seconds) {
        awaitNoLiveClients()
        val (alice, aliceSession) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        try {
            val (aliceId, bobId) = aliceSession.userId to bobSession.userId
            alice.startSync()
            bob.startSync()
            assertNull(alice.dmRoom(bobId), "no direct room yet")

            // Three taps at once: one room.
            val ids = List(3) { async(Dispatchers.Default) { alice.startDm(bobId) } }.awaitAll()
            val roomId = ids.first()
            assertEquals(listOf(roomId, roomId, roomId), ids, "one room for taps at once")
            val summary = alice.room(roomId)
            assertTrue(summary.isDirect && summary.isEncrypted, "$summary")
            assertEquals(roomId, alice.dmRoom(bobId))
            assertEquals(roomId, alice.startDm(bobId), "the same room again")

            // Bob is invited to a direct room, joins it, and finds it too.
            awaitMembership(bob, roomId, Membership.INVITED)
            bob.joinRoom(roomId)
            eventually("bob's side reads direct", timeout = 30.seconds, read = { runCatching { bob.room(roomId) }.getOrNull() }) {
                it?.isDirect == true
            }
            eventually("bob's dmRoom", timeout = 30.seconds, read = { bob.dmRoom(aliceId) }) { it == roomId }

            // Bad input.
            assertFailsWith<CoreException.NotFound>("an unknown user") { alice.startDm(nobodyOn(bobId.substringAfter(':'))) }
            assertFailsWith<CoreException.InvalidArgument>("oneself") { alice.startDm(aliceId) }
            assertFailsWith<CoreException.InvalidArgument>("not a user id") { alice.startDm("bob") }
            assertFailsWith<CoreException.InvalidArgument>("dmRoom of not a user id") { alice.dmRoom("bob") }
            alice.logout(LogoutOptions(), null)
            assertFailsWith<CoreException.ClientClosed>("dmRoom after logout") { alice.dmRoom(bobId) }
            bob.logout(LogoutOptions(), null)
        } finally {
            alice.destroy()
            bob.destroy()
        }
    }

    @Test
    fun roomSummariesStartWithTheCurrentOneFollowEachChangeAndEndAtLogout() = coreTest(150.seconds) {
        awaitNoLiveClients()
        val (alice, aliceSession) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        val dir = TestEnv.newDataDir()
        try {
            alice.startSync()
            bob.startSync()
            val roomId = alice.createRoom("before", listOf(bobSession.userId), false)
            val summaries = Recorder(this, alice.roomSummaries(roomId))
            val first = eventually("the current summary first", read = { summaries.seen.firstOrNull() }) { it != null }!!
            assertEquals(roomId, first.roomId)
            assertEquals("before", first.name, "$first")

            alice.setRoomName(roomId, "after")
            eventually("the new name", timeout = 30.seconds, read = { summaries.last() }) { it?.name == "after" }
            alice.setRoomTopic(roomId, "a topic")
            eventually("the topic", timeout = 30.seconds, read = { summaries.last() }) { it?.topic == "a topic" }
            alice.setRoomAvatar(roomId, pngIn(dir), null)
            val avatar = eventually("the avatar", timeout = 30.seconds, read = { summaries.last()?.avatar }) { it != null }!!
            assertEquals(avatar, mediaSourceFromUrl(avatar.url))
            assertEquals(avatar.url, summaries.last()!!.avatarUrl)
            // A member joins: the count moves.
            awaitMembership(bob, roomId, Membership.INVITED)
            bob.joinRoom(roomId)
            eventually("bob counted", timeout = 30.seconds, read = { summaries.last() }) { it?.joinedMembers == 2uL }
            alice.setRoomAvatar(roomId, null, null)
            eventually("the avatar removed", timeout = 30.seconds, read = { summaries.last() }) { it != null && it.avatar == null }
            // No emission repeats the one before it.
            val seen = summaries.seen.toList()
            assertTrue(seen.zipWithNext().none { (a, b) -> a == b }, "a summary repeated: $seen")

            // A second collection that stops early frees its subscription.
            val observers = tasksNamed("room-observer")
            assertEquals("after", alice.roomSummaries(roomId).first().name)
            eventually("the early stop's subscription freed", read = { tasksNamed("room-observer") }) { it == observers }

            // Bob has no power to change the room: the server's 403, typed.
            awaitMembership(bob, roomId, Membership.JOINED)
            assertForbidden("bob renames") { bob.setRoomName(roomId, "bob's") }
            assertForbidden("bob sets the topic") { bob.setRoomTopic(roomId, "bob's") }
            // Not an image, and no such file: refused before any upload.
            assertFailsWith<CoreException.InvalidArgument>("a text avatar") { alice.setRoomAvatar(roomId, textIn(dir), null) }
            assertFailsWith<CoreException.InvalidArgument>("a missing avatar") {
                alice.setRoomAvatar(roomId, File(dir, "nope.png").absolutePath, null)
            }
            // Unknown and malformed rooms: the flow throws.
            val unknown = "!nowhere:example.org"
            assertFailsWith<CoreException.NotFound>("following an unknown room") { alice.roomSummaries(unknown).first() }
            assertFailsWith<CoreException.NotFound>("renaming an unknown room") { alice.setRoomName(unknown, "x") }
            assertFailsWith<CoreException.InvalidArgument>("following a malformed id") { alice.roomSummaries("bad").first() }

            assertFalse(summaries.done.isCompleted, "the flow ended before the client did")
            alice.logout(LogoutOptions(), null)
            summaries.assertCompletes("roomSummaries()")
            // A flow started on the ended client completes at once, empty.
            assertEquals(emptyList(), withTimeoutOrNull(5.seconds) { alice.roomSummaries(roomId).toList() }, "roomSummaries() after the end")
            bob.logout(LogoutOptions(), null)
        } finally {
            alice.destroy()
            bob.destroy()
            dir.deleteRecursively()
        }
    }

    @Test
    fun membersCarryPowerAndRolesAndModerationNeedsPower() = coreTest(150.seconds) {
        awaitNoLiveClients()
        val (alice, aliceSession) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        val (carol, carolSession) = loggedInClient()
        try {
            val (aliceId, bobId, carolId) = Triple(aliceSession.userId, bobSession.userId, carolSession.userId)
            alice.startSync()
            bob.startSync()
            val roomId = alice.createRoom("members", listOf(bobId), false)
            alice.invite(roomId, carolId)

            val members = alice.members(roomId)
            val me = assertNotNull(members.find { it.userId == aliceId }, "the creator in $members")
            assertEquals(Membership.JOINED to MemberRole.ADMINISTRATOR, me.membership to me.role, "$me")
            assertTrue(me.powerLevel >= 100, "$me")
            val invited = assertNotNull(members.find { it.userId == bobId }, "bob, invited, in $members")
            assertEquals(Membership.INVITED, invited.membership)
            assertEquals(0L to MemberRole.USER, invited.powerLevel to invited.role, "$invited")
            assertNotNull(members.find { it.userId == carolId }, "carol, invited, in $members")

            // Bob joins; he has no power to kick or ban.
            awaitMembership(bob, roomId, Membership.INVITED)
            bob.joinRoom(roomId)
            assertForbidden("bob kicks carol") { bob.kick(roomId, carolId, null) }
            assertForbidden("bob bans alice") { bob.ban(roomId, aliceId, "no") }

            // Alice kicks carol's invite, bans bob and lifts the ban.
            alice.kick(roomId, carolId, "not now")
            alice.ban(roomId, bobId, null)
            awaitMembership(bob, roomId, Membership.BANNED)
            assertFailsWith<CoreException>("a banned user joins") { bob.joinRoom(roomId) }
            alice.unban(roomId, bobId, null)
            eventually("carol kicked and bob's ban lifted", timeout = 30.seconds, read = { alice.members(roomId).map { it.userId } }) {
                bobId !in it && carolId !in it && aliceId in it
            }
            // Unbanned, bob may come back (invited again).
            alice.invite(roomId, bobId)
            awaitMembership(bob, roomId, Membership.INVITED)

            // Bad input.
            assertFailsWith<CoreException.InvalidArgument>("kicking not a user id") { alice.kick(roomId, "carol", null) }
            assertFailsWith<CoreException.NotFound>("members of an unknown room") { alice.members("!nowhere:example.org") }
            alice.logout(LogoutOptions(), null)
            assertFailsWith<CoreException.ClientClosed>("members after logout") { alice.members(roomId) }
            bob.logout(LogoutOptions(), null)
            carol.logout(LogoutOptions(), null)
        } finally {
            alice.destroy()
            bob.destroy()
            carol.destroy()
        }
    }

    @Test
    fun profilesAreSetReadAndFoundInTheDirectory() = coreTest(150.seconds) {
        awaitNoLiveClients()
        val (alice, aliceSession) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        val dir = TestEnv.newDataDir()
        try {
            val (aliceId, bobId) = aliceSession.userId to bobSession.userId
            val shown = fresh("Alice Liddell ")
            alice.setDisplayName(shown)
            alice.setAvatar(pngIn(dir), null)
            val profile = bob.profile(aliceId)
            assertEquals(aliceId, profile.userId)
            assertEquals(shown, profile.displayName)
            val avatar = assertNotNull(profile.avatar, "the avatar in $profile")
            assertTrue(avatar.url.startsWith("mxc://") && !avatar.encrypted, "$avatar")
            alice.setAvatar(null, null)
            assertNull(bob.profile(aliceId).avatar, "the avatar removed")

            // The directory finds users who share a room.
            val roomId = alice.createRoom("dir", listOf(bobId), false)
            bob.joinRoom(roomId)
            eventually("alice in bob's directory", timeout = 30.seconds, read = { bob.searchUsers(shown, 10u) }) { found ->
                found.any { it.userId == aliceId && it.displayName == shown }
            }

            // Bad input.
            val unknown = assertFailsWith<CoreException.NotFound>("an unknown user's profile") { bob.profile(nobodyOn(aliceId.substringAfter(':'))) }
            assertTrue(unknown.detail.isNotBlank())
            assertFailsWith<CoreException.InvalidArgument>("not a user id") { bob.profile("alice") }
            assertFailsWith<CoreException.InvalidArgument>("a blank name") { alice.setDisplayName("  ") }
            for (limit in listOf(0u, 101u)) {
                assertFailsWith<CoreException.InvalidArgument>("limit $limit") { bob.searchUsers("a", limit) }
            }
            assertFailsWith<CoreException.InvalidArgument>("a text avatar") { alice.setAvatar(textIn(dir), null) }
            alice.logout(LogoutOptions(), null)
            bob.logout(LogoutOptions(), null)
        } finally {
            alice.destroy()
            bob.destroy()
            dir.deleteRecursively()
        }
    }

    @Test
    fun anIgnoredUserLeavesTheTimelineAndReportsReachTheServer() = coreTest(150.seconds) {
        awaitNoLiveClients()
        val (alice, aliceSession) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        var timeline: Timeline? = null
        var collecting: Deferred<Unit>? = null
        try {
            val (aliceId, bobId) = aliceSession.userId to bobSession.userId
            alice.startSync()
            val roomId = alice.createRoom("ignore", listOf(bobId), false)
            bob.joinRoom(roomId)
            val eventId = bob.sendText(roomId, "from bob")
            val tl = alice.timeline(roomId).also { timeline = it }
            val latest = AtomicReference<List<TimelineItem>>(emptyList())
            collecting = async(Dispatchers.Default) { tl.items().collect { latest.set(it) } }
            fun fromBob() = latest.get().mapNotNull { item ->
                val event = item.kind as? TimelineItemKind.Event
                (event?.content as? MessageContent.Text)?.body?.takeIf { event.sender == bobId }
            }
            // No back-pagination: the timeline opened while sync runs shows it.
            eventually("bob's message", timeout = 30.seconds, read = { fromBob() }) { it == listOf("from bob") }

            alice.reportEvent(roomId, eventId, "spam")
            alice.reportEvent(roomId, eventId, null)
            alice.reportRoom(roomId, "a room of spam")

            assertEquals(emptyList(), alice.ignoredUsers())
            alice.ignoreUser(bobId)
            assertEquals(listOf(bobId), alice.ignoredUsers())
            // The server keeps it in the account's data.
            val ignored = onServer(
                "GET",
                "/_matrix/client/v3/user/${escaped(aliceId)}/account_data/m.ignored_user_list",
                accessToken = aliceSession.accessToken,
            )
            assertTrue(ignored.contains("\"$bobId\""), ignored)
            eventually("bob's message gone from alice's timeline", timeout = 30.seconds, read = { fromBob() }) { it.isEmpty() }
            alice.unignoreUser(bobId)
            alice.unignoreUser(bobId) // nothing if not ignored
            assertEquals(emptyList(), alice.ignoredUsers())

            // Bad input.
            assertFailsWith<CoreException.InvalidArgument>("ignoring oneself") { alice.ignoreUser(aliceId) }
            assertFailsWith<CoreException.InvalidArgument>("ignoring not a user id") { alice.ignoreUser("bob") }
            assertFailsWith<CoreException.InvalidArgument>("reporting not an event id") { alice.reportEvent(roomId, "not-an-event", null) }
            assertFailsWith<CoreException.InvalidArgument>("a blank reason") { alice.reportRoom(roomId, " ") }
            assertFailsWith<CoreException.NotFound>("an unknown room") { alice.reportEvent("!nowhere:example.org", "\$e", null) }
            collecting?.cancel()
            alice.logout(LogoutOptions(), null)
            bob.logout(LogoutOptions(), null)
        } finally {
            collecting?.cancel()
            timeline?.destroy()
            alice.destroy()
            bob.destroy()
        }
    }

    /**
     * A timeline opened while sync runs shows the message sync already
     * brought of the room (the core's first open waits for the room's
     * subscription to answer), with no back-pagination. Three rooms in a row,
     * since the failure this guards against is a race.
     */
    @Test
    fun aTimelineOpenedWhileSyncRunsShowsWhatSyncBrought() = coreTest(150.seconds) {
        awaitNoLiveClients()
        val (alice, _) = loggedInClient()
        val (bob, bobSession) = loggedInClient()
        val timelines = mutableListOf<Timeline>()
        try {
            alice.startSync()
            for (attempt in 1..3) {
                val roomId = alice.createRoom("opened $attempt", listOf(bobSession.userId), false)
                bob.joinRoom(roomId)
                bob.sendText(roomId, "from bob $attempt")
                eventually("alice's sync brings bob's message $attempt", timeout = 30.seconds, read = { alice.room(roomId) }) {
                    it.unreadMessages >= 1uL
                }
                val tl = alice.timeline(roomId).also { timelines += it }
                val first = withTimeoutOrNull(30.seconds) {
                    tl.items().first { items ->
                        items.any { ((it.kind as? TimelineItemKind.Event)?.content as? MessageContent.Text)?.body == "from bob $attempt" }
                    }
                }
                assertNotNull(
                    first,
                    "attempt $attempt: the timeline never showed bob's message in 30 s, without a back-pagination " +
                        "(sync ${alice.syncState()}; ${alice.room(roomId)})",
                )
            }
            alice.logout(LogoutOptions(), null)
            bob.logout(LogoutOptions(), null)
        } finally {
            timelines.forEach { it.destroy() }
            alice.destroy()
            bob.destroy()
        }
    }

    @Test
    fun devicesAreListedAndAnotherIsSignedOutWithThePassword() = coreTest(150.seconds) {
        awaitNoLiveClients()
        val user = registerUser()
        val alice = Client.create(testConfig())
        val other = Client.create(testConfig())
        try {
            val own = alice.login(user.username, user.password, "kotlin-test").deviceId
            val phone = other.login(user.username, user.password, "phone").deviceId

            val devices = alice.devices()
            assertEquals(2, devices.size, "$devices")
            assertEquals(listOf(own), devices.filter { it.isCurrent }.map { it.deviceId }, "$devices")
            val listed = assertNotNull(devices.find { it.deviceId == phone }, "the other device in $devices")
            assertEquals("phone", listed.displayName)
            assertFalse(listed.isCurrent)

            // This device is logout's; a password is asked for, and checked.
            assertFailsWith<CoreException.InvalidArgument>("deleting this device") { alice.deleteDevice(own, user.password) }
            assertFailsWith<CoreException.Auth>("no password") { alice.deleteDevice(phone, null) }
            assertFailsWith<CoreException.Auth>("a wrong password") { alice.deleteDevice(phone, "wrong") }
            assertEquals(2, alice.devices().size, "nothing signed out yet")
            alice.deleteDevice(phone, user.password)
            val left = alice.devices()
            assertEquals(listOf(own), left.map { it.deviceId }, "$left")
            assertTrue(left.single().isCurrent)
            assertFailsWith<CoreException.InvalidArgument>("a blank device id") { alice.deleteDevice(" ", null) }
            runCatching { other.closeAndDrain() }
            alice.logout(LogoutOptions(), null)
        } finally {
            alice.destroy()
            other.destroy()
        }
    }
}
