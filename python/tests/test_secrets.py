"""No secret reaches the text of a record: the generated `str` and `repr` of
`Session`, `ClientConfig` and `PusherConfig` show who and where, never the
tokens, the store passphrase or the pushkey (an app that logs a session, or
an exception message that formats one, leaks nothing)."""

from __future__ import annotations

import pytest

from matrix_mobile_core import ClientConfig, PusherConfig, Session

ACCESS = "syt_access_token_secret_0123"
REFRESH = "syr_refresh_token_secret_4567"
PASSPHRASE = "store passphrase secret 89"
PUSHKEY = "fcm-registration-token-secret-abcdef"
SECRETS = (ACCESS, REFRESH, PASSPHRASE, PUSHKEY)

RECORDS = {
    "Session": (
        Session(
            user_id="@alice:localhost",
            device_id="ALICEDEVICE",
            access_token=ACCESS,
            refresh_token=REFRESH,
            homeserver_url="https://matrix.example.org",
        ),
        "@alice:localhost",
    ),
    "ClientConfig": (
        ClientConfig(
            homeserver_url="https://matrix.example.org",
            data_dir="/data/alice",
            store_passphrase=PASSPHRASE,
        ),
        "/data/alice",
    ),
    "PusherConfig": (
        PusherConfig(
            app_id="org.example.chat",
            pushkey=PUSHKEY,
            gateway_url="https://push.example.org/_matrix/push/v1/notify",
            device_name="Pixel",
            lang="en",
        ),
        "org.example.chat",
    ),
}


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_str_and_repr_show_no_secret(name: str) -> None:
    record, shown = RECORDS[name]
    for text in (str(record), repr(record), f"{record}", f"{[record]}"):
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, f"{name} printed {leaked}: {text}"
        assert shown in text, f"{name} printed nothing useful: {text}"
