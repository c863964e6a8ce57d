"""HTTPS: a private CA trusted through `additional_root_certificates`, and
certificates that fail refused with `Network`, before any secret is sent.

The suite's Synapse serves HTTPS with the run's CA, which `cargo xtask test` puts in
`SSL_CERT_FILE` (the platform's roots on Linux). The tests here that need a platform
that does not trust it point `SSL_CERT_FILE` at a CA that signs nothing while they
build their clients. The bad certificates (made by the harness, in `MMC_TLS_DIR`) are
served by small TLS servers of the tests' own, which count every byte a client sends
them after a handshake.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
from pathlib import Path
from typing import List

import pytest

from matrix_mobile_core import (
    Client,
    ClientConfig,
    ClientState,
    CoreError,
    LogoutOptions,
    runtime_stats,
)

PASSWORD = "correct horse battery"


def _tls_dir() -> Path:
    value = os.environ.get("MMC_TLS_DIR")
    if not value:
        pytest.fail("MMC_TLS_DIR is not set: run the suite with `cargo xtask test`", pytrace=False)
    return Path(value)


def _ca_pem() -> str:
    return (_tls_dir() / "ca.pem").read_text()


@pytest.fixture
def untrusting_platform(monkeypatch):
    """The platform's roots (SSL_CERT_FILE) become a CA that signs nothing, for the
    clients that the test builds."""
    monkeypatch.setenv("SSL_CERT_FILE", str(_tls_dir() / "unrelated-ca.pem"))


class BadServer:
    """A TLS server on 127.0.0.1 presenting `NAME.pem`; answers nothing, counts the
    bytes that arrive after a handshake."""

    def __init__(self, name: str) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(_tls_dir() / f"{name}.pem", _tls_dir() / f"{name}.key")
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.url = f"https://127.0.0.1:{self._server.getsockname()[1]}"
        self.received = 0
        self._stop = threading.Event()
        self._threads: List[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with self._context.wrap_socket(conn, server_side=True) as tls:
                while data := tls.recv(4096):
                    self.received += len(data)
        except OSError:  # the client refused the certificate: an alert, or a close
            pass

    def __enter__(self) -> "BadServer":
        self._accepting.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._accepting.join(timeout=2)
        for thread in self._threads:
            thread.join(timeout=6)
        self._server.close()


def _config(url: str, data_dir: str, roots: List[str]) -> ClientConfig:
    return ClientConfig(
        homeserver_url=url, data_dir=data_dir, additional_root_certificates=roots
    )


async def _assert_login_refused_twice(client: Client, expected: str) -> None:
    for attempt in (1, 2):
        with pytest.raises(CoreError.Network) as caught:
            await client.login("alice", PASSWORD, None)
        detail = caught.value.detail
        assert "TLS certificate" in detail and expected in detail, f"attempt {attempt}: {detail}"
        assert PASSWORD not in detail
        assert client.state() == ClientState.CREATED, f"attempt {attempt}"


async def test_the_run_ca_in_additional_root_certificates_alone_is_enough_to_log_in(
    homeserver_url, user, data_dir, untrusting_platform
):
    client = await Client.create(_config(homeserver_url, data_dir, [_ca_pem()]))
    session = await client.login(user.username, user.password, None)
    assert session.homeserver_url.startswith("https://")
    report = await client.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0


async def test_without_additional_root_certificates_the_run_ca_is_unknown(
    homeserver_url, data_dir, untrusting_platform
):
    client = await Client.create(_config(homeserver_url, data_dir, []))
    await _assert_login_refused_twice(client, "UnknownIssuer")
    await client.close(None)


@pytest.mark.parametrize(
    "name, expected",
    [("untrusted", "UnknownIssuer"), ("wrong-host", "NotValidForName"), ("expired", "Expired")],
)
async def test_a_bad_certificate_is_refused_before_the_password_is_sent(
    name, expected, data_dir, untrusting_platform
):
    with BadServer(name) as server:
        client = await Client.create(_config(server.url, data_dir, [_ca_pem()]))
        await _assert_login_refused_twice(client, expected)
        await client.close(None)
    assert server.received == 0, "bytes reached the server"


@pytest.mark.parametrize(
    "pem",
    ["not a certificate", "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n"],
)
async def test_a_malformed_pem_raises_invalid_argument_and_creates_nothing(
    pem, homeserver_url, tmp_path: Path
):
    live = runtime_stats().live_clients
    data_dir = tmp_path / "never-created"
    with pytest.raises(CoreError.InvalidArgument) as caught:
        await Client.create(_config(homeserver_url, str(data_dir), [_ca_pem(), pem]))
    assert "additional_root_certificates[1]" in caught.value.detail
    assert not data_dir.exists()
    assert runtime_stats().live_clients == live
