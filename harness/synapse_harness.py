"""The test homeserver: one Synapse on loopback, shared by every language's tests.

Used as a CLI by `cargo xtask` and as a module by pytest (`register_user`).

    python synapse_harness.py start --state-dir DIR [--owner-pid PID] [--ca-dir CA] [--http]
                                    [--access-token-lifetime-s N]
    python synapse_harness.py stop --state-dir DIR
    python synapse_harness.py run --state-dir DIR        # foreground, until Ctrl-C or stdin EOF
    python synapse_harness.py register --url URL --username U --password P

Guarantees:
- `start` returns (exit 0) only once `GET /_matrix/client/versions` answers; it then
  writes DIR/harness.json and prints the same JSON on stdout. On failure it exits
  non-zero with the tail of the Synapse log, and leaves no Synapse running.
- Synapse listens on 127.0.0.1 only, over HTTPS (`https://127.0.0.1:PORT`), with a
  certificate of a throwaway CA made for this start in DIR/tls (see tls_certs.py), or
  signed by the CA in `--ca-dir` (its `ca.pem` and `ca.key`) so that several Synapses
  of one test run share one CA. harness.json names `ca_file`, `trust_file` (the
  system's bundle plus the CA, for SSL_CERT_FILE) and `tls_dir`. `--http` serves plain
  HTTP instead, for hacking only: every `cargo xtask` suite and CI job uses HTTPS.
- Synapse keeps every file (SQLite, media, keys, logs, certificates) in DIR, has open
  registration and rate limits high enough for tests.
- With `--owner-pid`, a small watchdog stops Synapse when that process ends, so an
  interrupted test run leaves nothing behind.
- Synapse may push to gateways on 127.0.0.1 (`ip_range_whitelist`), so that a
  test's own push gateway (push_gateway.py, core/tests/support/push_gateway.rs)
  receives what Synapse posts.
- With `--access-token-lifetime-s N`, an access token issued with a refresh token
  (a login that asks for one) expires after N seconds
  (`refreshable_access_token_lifetime`); refresh tokens do not expire. harness.json
  then names `access_token_lifetime_s`. Without it, tokens never expire.
- `stop` returns once the Synapse process (and its watchdog) is gone: SIGTERM, then
  SIGKILL after 10 s. It is idempotent.

Standard library only, apart from PyYAML and cryptography (imported by `start`) and
Synapse itself. The HTTPS calls here trust the CA that SSL_CERT_FILE names (as
`cargo xtask` sets it), or the one passed in explicitly.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

SERVER_NAME = "localhost"
STATE_FILE = "harness.json"
CONFIG_FILE = "homeserver.yaml"
LOG_FILE = "synapse.log"
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0
WATCH_INTERVAL_S = 0.5

# Rate limits: ~1000 events per second with a large burst, for every limiter that a
# test could hit. Nested keys are the limiters that Synapse splits per dimension.
_FAST = {"per_second": 1000, "burst_count": 10000}
_FLAT_LIMITERS = [
    "rc_message",
    "rc_registration",
    "rc_registration_token_validity",
    "rc_admin_redaction",
    "rc_joins_per_room",
    "rc_key_requests",
    "rc_3pid_validation",
    "rc_third_party_invite",
    "rc_media_create",
    "rc_delayed_event_mgmt",
    "rc_room_creation",
    "rc_reports",
    "rc_user_directory",
    "rc_profile",
]
_NESTED_LIMITERS = {
    "rc_login": ["address", "account", "failed_attempts"],
    "rc_joins": ["local", "remote"],
    "rc_invites": ["per_room", "per_user", "per_issuer"],
    "rc_presence": ["per_user"],
}


class HarnessError(Exception):
    """A harness step failed; the message says which and why."""


# --- registration (used by pytest) ------------------------------------------------


def register_user(
    url: str, username: str, password: str, timeout: float = 30.0, cafile: str | None = None
) -> dict:
    """Registers `username` through open registration (m.login.dummy).

    Returns Synapse's JSON answer (`user_id`, `access_token`, `device_id`).
    Raises HarnessError with the server's status and body when it refuses.
    """
    body = {"username": username, "password": password, "auth": {"type": "m.login.dummy"}}
    return _post_json(f"{url.rstrip('/')}/_matrix/client/v3/register", body, timeout, cafile)


def tls_context(cafile: str | None = None) -> ssl.SSLContext:
    """A client context that verifies against `cafile`, else the default roots
    (OpenSSL's, which SSL_CERT_FILE replaces)."""
    return ssl.create_default_context(cafile=cafile)


def _post_json(url: str, body: dict, timeout: float, cafile: str | None = None) -> dict:
    data = json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=tls_context(cafile)) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as err:
        detail = err.read().decode(errors="replace")
        raise HarnessError(f"POST {url} answered {err.code}: {detail}") from None
    except urllib.error.URLError as err:
        raise HarnessError(f"POST {url} failed: {err.reason}") from None


def versions_answer(url: str, timeout: float = 2.0, cafile: str | None = None) -> bool:
    """Whether `GET /_matrix/client/versions` answers 200 with a `versions` list."""
    versions = f"{url}/_matrix/client/versions"
    try:
        with urllib.request.urlopen(versions, timeout=timeout, context=tls_context(cafile)) as resp:
            return resp.status == 200 and "versions" in json.loads(resp.read())
    except (OSError, ValueError):
        return False


# --- configuration ----------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(
    state_dir: Path, port: int, tls: dict | None, access_token_lifetime_s: int | None = None
) -> dict:
    """Generates Synapse's config in `state_dir`, then rewrites it for tests.

    Returns the final config. The rewrite goes through a YAML parser: the generated
    file ends without a newline, so appended text would be lost in its last comment.
    """
    import yaml  # only `start` needs it, so pytest can import this module without it

    config_path = state_dir / CONFIG_FILE
    subprocess.run(
        [
            sys.executable, "-m", "synapse.app.homeserver",
            "--server-name", SERVER_NAME,
            "--config-path", str(config_path),
            "--data-directory", str(state_dir),
            "--generate-config",
            "--report-stats=no",
        ],
        cwd=state_dir, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    config = yaml.safe_load(config_path.read_text()) or {}
    config["listeners"] = [
        {
            "port": port,
            "type": "http",
            "tls": tls is not None,
            "x_forwarded": False,
            "bind_addresses": ["127.0.0.1"],
            "resources": [{"names": ["client"], "compress": False}],
        }
    ]
    if tls is not None:
        config["tls_certificate_path"] = tls["certificate"]
        config["tls_private_key_path"] = tls["private_key"]
    config["database"] = {
        "name": "sqlite3",
        "args": {"database": str(state_dir / "homeserver.db")},
    }
    config["media_store_path"] = str(state_dir / "media_store")
    config["pid_file"] = str(state_dir / "homeserver.pid")
    config["enable_registration"] = True
    config["enable_registration_without_verification"] = True
    config["suppress_key_server_warning"] = True
    config["trusted_key_servers"] = []
    config["report_stats"] = False
    if not config.get("registration_shared_secret"):
        config["registration_shared_secret"] = secrets.token_hex(32)
    # Pushes go to the tests' own gateway on loopback, which Synapse's default
    # blacklist of private ranges would refuse.
    config["ip_range_whitelist"] = ["127.0.0.1/32"]
    if access_token_lifetime_s is not None:
        config["refreshable_access_token_lifetime"] = f"{access_token_lifetime_s}s"
    for name in _FLAT_LIMITERS:
        config[name] = dict(_FAST)
    for name, parts in _NESTED_LIMITERS.items():
        config[name] = {part: dict(_FAST) for part in parts}
    config_path.write_text(yaml.safe_dump(config, sort_keys=True))
    return config


# --- process control --------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Whether `pid` runs and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _owns(pid: int, state_dir: Path) -> bool:
    """Whether `pid` is still one of ours (guards against pid reuse)."""
    cmd = _cmdline(pid)
    return not cmd or str(state_dir) in cmd


def _terminate(pid: int, state_dir: Path, grace: float) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL; returns once it is gone."""
    if not _alive(pid) or not _owns(pid, state_dir):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5.0
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        raise HarnessError(f"process {pid} survived SIGKILL")


def _log_tail(state_dir: Path, lines: int = 40) -> str:
    parts = []
    for name in (LOG_FILE, "homeserver.log"):
        path = state_dir / name
        if path.exists():
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- last lines of {path} ---\n" + "\n".join(text))
    return "\n".join(parts) or "(no log was written)"


def start(
    state_dir: Path,
    owner_pid: int | None = None,
    ca_dir: Path | None = None,
    http: bool = False,
    access_token_lifetime_s: int | None = None,
) -> dict:
    """Starts Synapse in `state_dir` and returns the harness state (see module doc)."""
    state_dir = state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    if (state_dir / STATE_FILE).exists():
        raise HarnessError(f"{state_dir / STATE_FILE} exists: stop that Synapse first")
    port = free_port()
    tls = None
    if not http:
        import tls_certs  # needs cryptography, which only `start` imports

        tls = tls_certs.make(state_dir / "tls", ca_dir.resolve() if ca_dir else None)
    config = write_config(state_dir, port, tls, access_token_lifetime_s)
    url = f"{'http' if http else 'https'}://127.0.0.1:{port}"
    with open(state_dir / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "--config-path",
             str(state_dir / CONFIG_FILE)],
            cwd=state_dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT_S
    while not versions_answer(url, cafile=tls and tls["ca_file"]):
        if proc.poll() is not None:
            raise HarnessError(
                f"Synapse exited with {proc.returncode} during start\n{_log_tail(state_dir)}"
            )
        if time.monotonic() > deadline:
            _terminate(proc.pid, state_dir, STOP_GRACE_S)
            proc.wait()
            raise HarnessError(
                f"Synapse did not answer on {url} within {START_TIMEOUT_S:.0f} s\n"
                f"{_log_tail(state_dir)}"
            )
        time.sleep(0.1)
    state = {
        "homeserver_url": url,
        "port": port,
        "pid": proc.pid,
        "server_name": SERVER_NAME,
        "registration_shared_secret": config["registration_shared_secret"],
        **({k: tls[k] for k in ("ca_file", "trust_file", "tls_dir")} if tls else {}),
        **(
            {"access_token_lifetime_s": access_token_lifetime_s}
            if access_token_lifetime_s is not None
            else {}
        ),
    }
    _write_state(state_dir, state)
    if owner_pid is not None:
        # The watchdog runs while harness.json exists, so it starts after the first write.
        state["watchdog_pid"] = _spawn_watchdog(state_dir, owner_pid)
        _write_state(state_dir, state)
    return state


def _write_state(state_dir: Path, state: dict) -> None:
    tmp = state_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(state_dir / STATE_FILE)


def _spawn_watchdog(state_dir: Path, owner_pid: int) -> int:
    with open(state_dir / "watchdog.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "watch", "--state-dir",
             str(state_dir), "--owner-pid", str(owner_pid)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            start_new_session=True,
        )  # fmt: skip
    return proc.pid


def read_state(state_dir: Path) -> dict | None:
    """The harness state of a running Synapse, or None when none was started here."""
    try:
        return json.loads((state_dir / STATE_FILE).read_text())
    except FileNotFoundError:
        return None


def stop(state_dir: Path) -> bool:
    """Stops the Synapse of `state_dir`; False when there was none to stop."""
    state_dir = state_dir.resolve()
    state = read_state(state_dir)
    if state is None:
        return False
    watchdog = state.get("watchdog_pid")
    if watchdog and watchdog != os.getpid():
        _terminate(watchdog, state_dir, 2.0)
    _terminate(state["pid"], state_dir, STOP_GRACE_S)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return True


def watch(state_dir: Path, owner_pid: int) -> None:
    """Waits until `owner_pid` ends, then stops Synapse; returns early if it is stopped."""
    state_dir = state_dir.resolve()
    while (state_dir / STATE_FILE).exists():
        if not _alive(owner_pid):
            stop(state_dir)
            return
        time.sleep(WATCH_INTERVAL_S)


def run_foreground(state_dir: Path) -> None:
    """Starts Synapse, waits for Ctrl-C, SIGTERM, SIGHUP or stdin EOF, then stops it."""

    def interrupt(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    state = start(state_dir, owner_pid=os.getpid())
    try:
        print(json.dumps(state), flush=True)
        print(
            f"Synapse runs at {state['homeserver_url']} (state in {state_dir}); "
            "Ctrl-C or Ctrl-D stops it.",
            file=sys.stderr, flush=True,
        )  # fmt: skip
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    finally:
        stop(state_dir)
        print("Synapse stopped.", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "run", "watch"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--state-dir", type=Path, required=True)
        if name in ("start", "watch"):
            cmd.add_argument("--owner-pid", type=int, required=name == "watch")
        if name == "start":
            cmd.add_argument("--ca-dir", type=Path)
            cmd.add_argument("--http", action="store_true")
            cmd.add_argument("--access-token-lifetime-s", type=int)
    reg = sub.add_parser("register")
    reg.add_argument("--url", required=True)
    reg.add_argument("--username", required=True)
    reg.add_argument("--password", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            state = start(
                args.state_dir, args.owner_pid, args.ca_dir, args.http,
                args.access_token_lifetime_s,
            )  # fmt: skip
            print(json.dumps(state), flush=True)
        elif args.command == "stop":
            if not stop(args.state_dir):
                print(f"no Synapse was running in {args.state_dir}", file=sys.stderr)
        elif args.command == "run":
            run_foreground(args.state_dir)
        elif args.command == "watch":
            watch(args.state_dir, args.owner_pid)
        else:
            print(json.dumps(register_user(args.url, args.username, args.password)))
    except (HarnessError, subprocess.CalledProcessError) as err:
        print(f"synapse_harness: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
