package dev.matrixmobilecore

import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** Bad input and calls on a closed client come back as typed [CoreException]s with their fields. */
class ErrorsTest {
    @Test
    fun callsOnAClosedClientThrowClientClosed() = coreTest {
        val (client, _) = loggedInClient()
        try {
            client.close(null)
            assertEquals(ClientState.CLOSED, client.state())
            assertFailsWith<CoreException.ClientClosed> { client.sendText("!nowhere:localhost", "x") }
            assertFailsWith<CoreException.ClientClosed> { client.startSync() }
            assertFailsWith<CoreException.ClientClosed> { client.close(null) }
            assertFailsWith<CoreException.ClientClosed> { client.logout(LogoutOptions(), null) }
        } finally {
            client.destroy()
        }
    }

    @Test
    fun logoutTwiceThrowsClientClosed() = coreTest {
        val (client, _) = loggedInClient()
        try {
            client.logout(LogoutOptions(), null)
            assertFailsWith<CoreException.ClientClosed> { client.logout(LogoutOptions(), null) }
        } finally {
            client.destroy()
        }
    }

    @Test
    fun malformedHomeserverUrlThrowsInvalidArgumentWithDetail() = coreTest {
        val error = assertFailsWith<CoreException.InvalidArgument> {
            Client.create(testConfig(homeserverUrl = "not a url"))
        }
        assertTrue(error.detail.isNotBlank(), "InvalidArgument carries a detail")
    }

    @Test
    fun malformedRoomIdThrowsInvalidArgumentWithDetail() = coreTest {
        val (client, _) = loggedInClient()
        client.closing {
            val error = assertFailsWith<CoreException.InvalidArgument> { client.sendText("no room id", "x") }
            assertTrue(error.detail.isNotBlank())
        }
    }

    @Test
    fun wrongPasswordThrowsAuth() = coreTest {
        val user = registerUser()
        Client.create(testConfig()).closing { client ->
            val error = assertFailsWith<CoreException.Auth> { client.login(user.username, "wrong-password", null) }
            assertTrue(error.detail.isNotBlank())
            assertEquals(ClientState.CREATED, client.state())
        }
    }

    @Test
    fun logoutBeforeLoginIsInvalidStateAndLeavesTheClientUsable() = coreTest {
        Client.create(testConfig()).closing { client ->
            val error = assertFailsWith<CoreException.InvalidState> { client.logout(LogoutOptions(), null) }
            assertTrue(error.detail.isNotBlank())
            assertEquals(ClientState.CREATED, client.state())
        }
    }
}
