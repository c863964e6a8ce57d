"""`async for` over the security listeners: recovery, verification, sessions.

Built on `_streams.CoreStream`, with the same rules (see that module's
docstring): cold, delivered on the running loop, nothing dropped, ended by
the core's end signal, cancelled by leaving the iteration. Importing the
package attaches:

=============================================  =====================================
``client.recovery_states()``                   `RecoveryState`: the current one
                                               first, then each change
``client.verification_requests()``             `Verification`, each request another
                                               device of this user sends
``verification.states()``                      `VerificationState`: the current one
                                               first, ends after `DONE` or
                                               `CANCELLED`
``client.session_events()``                    `SessionEvent`: the current session, each refresh
                                               (`Refreshed`, the session to store)
                                               and each refused token
                                               (`AuthError`)
=============================================  =====================================
"""

from __future__ import annotations

from ._ffi.matrix_mobile_core import (
    Client,
    RecoveryState,
    RecoveryStateListener,
    Session,
    SessionListener,
    Verification,
    VerificationListener,
    VerificationRequestListener,
    VerificationState,
)
from ._streams import CoreStream, _Channel

__all__ = ["SessionEvent"]


class SessionEvent:
    """What `client.session_events()` yields: `SessionEvent.Refreshed` or
    `SessionEvent.AuthError` (subclasses, as the generated enums with data)."""

    __slots__ = ()

    Refreshed: type
    AuthError: type


class _Refreshed(SessionEvent):
    """matrix-sdk refreshed the tokens: store `session`, which `restore` takes
    from now on. Its repr leaves the tokens out; never log the session itself."""

    __slots__ = ("session",)

    def __init__(self, session: Session) -> None:
        self.session = session

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Refreshed) and other.session == self.session

    def __hash__(self) -> int:
        return hash((self.session.user_id, self.session.device_id))

    def __repr__(self) -> str:
        return (
            f"SessionEvent.Refreshed(user_id={self.session.user_id!r}, "
            f"device_id={self.session.device_id!r})"
        )


class _AuthError(SessionEvent):
    """The server refused the token and no refresh could fix it: with
    `soft_logout`, log in again as the same user on the same `data_dir`;
    without it the device is gone. Comes once per refused token."""

    __slots__ = ("soft_logout",)

    def __init__(self, soft_logout: bool) -> None:
        self.soft_logout = soft_logout

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _AuthError) and other.soft_logout == self.soft_logout

    def __hash__(self) -> int:
        return hash(self.soft_logout)

    def __repr__(self) -> str:
        return f"SessionEvent.AuthError(soft_logout={self.soft_logout})"


for _variant, _name in ((_Refreshed, "Refreshed"), (_AuthError, "AuthError")):
    _variant.__name__ = _name
    _variant.__qualname__ = f"SessionEvent.{_name}"
    setattr(SessionEvent, _name, _variant)


class _RecoveryStates(RecoveryStateListener):
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def on_state(self, state: RecoveryState) -> None:
        self._channel.put(state)

    def on_closed(self) -> None:
        self._channel.end()


class _VerificationRequests(VerificationRequestListener):
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def on_request(self, verification: Verification) -> None:
        self._channel.put(verification)

    def on_closed(self) -> None:
        self._channel.end()


class _VerificationStates(VerificationListener):
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def on_state(self, state: VerificationState) -> None:
        self._channel.put(state)
        if isinstance(state, (VerificationState.DONE, VerificationState.CANCELLED)):
            self._channel.end()

    def on_closed(self) -> None:
        self._channel.end()


class _SessionEvents(SessionListener):
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def on_session_changed(self, session: Session) -> None:
        self._channel.put(SessionEvent.Refreshed(session))

    def on_auth_error(self, soft_logout: bool) -> None:
        self._channel.put(SessionEvent.AuthError(soft_logout))

    def on_closed(self) -> None:
        self._channel.end()


def recovery_states(self: Client) -> CoreStream[RecoveryState]:
    """The account's recovery state as this device sees it: the current one
    first, then each change, until the client ends."""
    return CoreStream(
        "recovery-states", lambda channel: self.observe_recovery_state(_RecoveryStates(channel))
    )


def verification_requests(self: Client) -> CoreStream[Verification]:
    """Each verification request another device of this user sends, until the
    client ends."""
    return CoreStream(
        "verification-requests",
        lambda channel: self.observe_verification_requests(_VerificationRequests(channel)),
    )


def states(self: Verification) -> CoreStream[VerificationState]:
    """The verification's states: the current one first, then each change; the
    iteration ends after `DONE` or `CANCELLED`, or when the client ends."""
    return CoreStream(
        "verification-states", lambda channel: self.observe(_VerificationStates(channel))
    )


def session_events(self: Client) -> CoreStream[object]:
    """The current session first, then each token refresh (both
    `SessionEvent.Refreshed`: store its session) and each refused token
    (`SessionEvent.AuthError`), until the client ends. A refresh is in the
    first event or yielded after it, never lost between the two. An
    `AuthError` does not end the iteration by itself; the client's end does."""
    return CoreStream("session-events", lambda channel: self.observe_session(_SessionEvents(channel)))


def _install() -> None:
    """Attaches the security streams to the generated classes."""
    Client.recovery_states = recovery_states  # type: ignore[attr-defined]
    Client.verification_requests = verification_requests  # type: ignore[attr-defined]
    Client.session_events = session_events  # type: ignore[attr-defined]
    Verification.states = states  # type: ignore[attr-defined]


_install()
