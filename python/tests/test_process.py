"""Process-wide functions: shutdown, runtime stats and generations, configure_runtime,
init_logging, the task failure listener.

These tests share the one runtime of the process with the rest of the suite; each
leaves it usable (a shut-down runtime restarts on the next call). They start it with
`Client.create`, which starts the runtime if it is not running and never reaches the
server, so that they need no login.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Callable

import pytest
from _support import Failures, wait_no_live_clients, wait_until

from matrix_mobile_core import (
    Client,
    ClientConfig,
    ClientState,
    CoreError,
    LogConfig,
    RuntimeConfig,
    RuntimeState,
    RuntimeStats,
    ShutdownOptions,
    ShutdownReport,
    SyncState,
    configure_runtime,
    init_logging,
    runtime_stats,
    set_task_failure_listener,
    shutdown,
    shutdown_blocking,
)


@pytest.fixture
def new_config(homeserver_url: str, tmp_path: Path) -> Callable[[], ClientConfig]:
    """A factory of client configs, each on a fresh `data_dir` of its own."""
    numbers = itertools.count()

    def make() -> ClientConfig:
        data_dir = tmp_path / f"client-{next(numbers)}"
        return ClientConfig(homeserver_url=homeserver_url, data_dir=str(data_dir))

    return make


async def _start_runtime(config: ClientConfig) -> RuntimeStats:
    """Starts the runtime through the public API and leaves no client live.

    `Client.create` starts the runtime if it is not running; closing that client,
    the last live one, restarts the runtime, which then runs on in the next
    generation. Returns the stats after the close.
    """
    await wait_no_live_clients()
    client = await Client.create(config)
    assert runtime_stats().state == RuntimeState.RUNNING
    report = await client.close(None)
    assert report.runtime_restarted is True
    stats = runtime_stats()
    assert stats.state == RuntimeState.RUNNING
    assert stats.generation == report.runtime_generation
    return stats


async def _shut_down() -> ShutdownReport:
    await wait_no_live_clients()
    return await shutdown(ShutdownOptions(timeout_ms=5000))


async def test_shutdown_returns_a_report_and_a_second_one_says_already_shut_down(new_config):
    await wait_no_live_clients()
    client = await Client.create(new_config())  # starts the runtime if it is not running
    running = runtime_stats()
    assert running.state == RuntimeState.RUNNING
    assert running.live_clients == 1

    first = await shutdown(ShutdownOptions(timeout_ms=5000))
    assert isinstance(first, ShutdownReport)
    assert first.already_shut_down is False
    assert first.clients_closed == 1
    assert client.state() == ClientState.CLOSED
    assert first.runtime_generation == running.generation
    assert first.tasks_abandoned == []
    assert first.total_ms <= 5000

    second = await shutdown(ShutdownOptions(timeout_ms=5000))
    assert isinstance(second, ShutdownReport)
    assert second.already_shut_down is True
    assert second.clients_closed == 0


async def test_runtime_stats_after_shutdown_show_nothing_alive(new_config):
    await _start_runtime(new_config())
    await _shut_down()
    stats = runtime_stats()
    assert stats.state == RuntimeState.SHUT_DOWN
    assert stats.alive_tasks == 0
    assert stats.supervised_tasks == []
    assert stats.live_clients == 0


async def test_a_call_after_shutdown_starts_the_next_generation(new_config):
    await _start_runtime(new_config())
    await _shut_down()
    before = runtime_stats().generation

    client = await Client.create(new_config())
    after = runtime_stats()
    assert after.state == RuntimeState.RUNNING
    assert after.generation == before + 1
    # runtime_stats never starts a runtime, and the client's sync calls need none.
    assert client.state() == ClientState.CREATED
    assert client.sync_state() == SyncState.IDLE
    assert client.session() is None
    assert runtime_stats().generation == before + 1
    await client.close(None)


async def test_concurrent_shutdowns_share_one_outcome(new_config):
    await _start_runtime(new_config())
    generation = runtime_stats().generation
    reports = await asyncio.gather(*(shutdown(ShutdownOptions()) for _ in range(5)))
    assert {r.runtime_generation for r in reports} == {generation}
    assert runtime_stats().state == RuntimeState.SHUT_DOWN


async def test_configure_runtime_while_running_raises_busy(new_config):
    await _start_runtime(new_config())
    with pytest.raises(CoreError.Busy) as caught:
        configure_runtime(RuntimeConfig())
    assert isinstance(caught.value, CoreError)
    assert isinstance(caught.value.operation, str) and caught.value.operation
    assert runtime_stats().state == RuntimeState.RUNNING


async def test_configure_runtime_after_shutdown_sets_the_worker_count(new_config):
    await _shut_down()
    try:
        configure_runtime(RuntimeConfig(worker_threads=3, thread_name="mmc-pytest"))
        assert (await _start_runtime(new_config())).worker_threads == 3
    finally:
        await _shut_down()
        configure_runtime(RuntimeConfig())
    assert 1 <= (await _start_runtime(new_config())).worker_threads <= 4


def test_configure_runtime_with_too_many_workers_raises_invalid_argument():
    with pytest.raises(CoreError.InvalidArgument) as caught:
        configure_runtime(RuntimeConfig(worker_threads=1000))
    assert "worker_threads" in caught.value.detail
    assert "1000" in caught.value.detail


def test_configure_runtime_with_an_empty_thread_name_raises_invalid_argument():
    with pytest.raises(CoreError.InvalidArgument) as caught:
        configure_runtime(RuntimeConfig(thread_name="  "))
    assert "thread_name" in caught.value.detail


async def test_shutdown_blocking_from_a_plain_thread_shuts_down(new_config):
    # Not on a runtime thread: allowed, and it really shuts a running runtime down.
    running = await _start_runtime(new_config())
    assert running.state == RuntimeState.RUNNING
    report = await asyncio.to_thread(shutdown_blocking, ShutdownOptions(timeout_ms=5000))
    assert isinstance(report, ShutdownReport)
    assert report.already_shut_down is False
    assert report.runtime_generation == running.generation
    assert runtime_stats().state == RuntimeState.SHUT_DOWN


def _log_files(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(folder.glob("matrix-core*")))


def test_init_logging_twice_replaces_the_filter_and_a_bad_filter_is_refused(
    tmp_path_factory, capfd
):
    # The outputs (stderr, files) are fixed by the first call of the process; this is
    # the only test that calls init_logging, so the first call here installs them.
    log_dir = tmp_path_factory.mktemp("logs")
    init_logging(LogConfig(filter="off", to_stdout=True, file_dir=str(log_dir)))
    capfd.readouterr()

    # A later call with other outputs keeps the outputs and replaces only the filter;
    # the core says so with a warning, which the new filter lets through.
    init_logging(LogConfig(filter="warn", to_stdout=False, file_dir=None))
    err = capfd.readouterr().err
    assert "only the filter was replaced" in err
    assert "only the filter was replaced" in _log_files(log_dir)

    # With the filter replaced by "off", the same warning is not written anywhere.
    before = _log_files(log_dir)
    init_logging(LogConfig(filter="off", to_stdout=False, file_dir=None))
    assert "only the filter was replaced" not in capfd.readouterr().err
    assert _log_files(log_dir) == before

    with pytest.raises(CoreError.InvalidArgument) as caught:
        init_logging(LogConfig(filter="=[not a filter"))
    assert "not a filter" in caught.value.detail
    # A refused filter leaves logging working: the next good call is accepted.
    init_logging(LogConfig(filter="off"))


async def test_task_failure_listener_can_be_installed_replaced_and_removed(new_config):
    # Nothing the Python API can call makes a supervised task fail on purpose
    # (the Rust suite drives the listener with failing tasks, supervisor.rs):
    # what is checked here is that installing, replacing and removing it
    # keeps calls working and that no call is reported as a failure. The calls
    # are supervised ones that succeed without a server: a client's creation,
    # stop_sync on a client that never synced, pause and resume, and its close.
    await wait_no_live_clients()
    quiet, raising = Failures(), Failures(raise_after=True)
    set_task_failure_listener(quiet)
    try:
        client = await Client.create(new_config())
        await client.stop_sync()
        await asyncio.gather(*(client.stop_sync() for _ in range(20)))
        set_task_failure_listener(raising)
        await client.pause()
        await client.resume()
        set_task_failure_listener(None)
        await client.stop_sync()
        assert client.state() == ClientState.CREATED
        report = await client.close(None)
        assert report.store_files_open_after == 0
    finally:
        set_task_failure_listener(None)
    assert quiet.failures == []
    assert raising.failures == []


async def test_many_supervised_calls_run_on_one_generation_and_leave_no_task(new_config):
    # stop_sync on a client that never synced is a supervised call with no work:
    # 200 at once neither restart the runtime nor leave a task behind.
    await wait_no_live_clients()
    client = await Client.create(new_config())
    generation = runtime_stats().generation
    await asyncio.gather(*(client.stop_sync() for _ in range(200)))
    assert runtime_stats().generation == generation
    assert runtime_stats().state == RuntimeState.RUNNING
    await wait_until(
        lambda: not any(name.endswith("::stop_sync") for name in runtime_stats().supervised_tasks),
        what="no stop_sync task left",
    )
    await client.close(None)

