# Type hints for matrix_mobile_core, the public contract (API.md) as UniFFI 0.32
# renders it in Python:
# - records are dataclasses whose constructors take keywords only;
# - fieldless enums are `enum.Enum` with SHOUTY_CASE members;
# - enums with data are classes whose variants are nested SHOUTY_CASE subclasses;
# - CoreError variants keep their Rust names (`CoreError.ClientClosed`);
# - a foreign trait (listener) is an abstract class to subclass;
# - an exported object `X` also has a structural `XProtocol`.
# Kept by hand: python/tests/test_package_layout.py checks that every name exported by
# the generated bindings is declared here, and the reverse.

import enum
from typing import List, Optional, Protocol

__all__: List[str]

class InternalError(Exception): ...

# --- records ----------------------------------------------------------------------

class RuntimeConfig:
    worker_threads: int
    thread_name: str
    def __init__(self, *, worker_threads: int = 0, thread_name: str = "matrix-core") -> None: ...

class LogConfig:
    filter: str
    to_stdout: bool
    file_dir: Optional[str]
    def __init__(
        self, *, filter: str = "info", to_stdout: bool = True, file_dir: Optional[str] = None
    ) -> None: ...

class ShutdownOptions:
    timeout_ms: int
    def __init__(self, *, timeout_ms: int = 5000) -> None: ...

class ClientConfig:
    homeserver_url: str
    data_dir: str
    store_passphrase: Optional[str]
    request_timeout_ms: int
    additional_root_certificates: List[str]
    def __init__(
        self,
        *,
        homeserver_url: str,
        data_dir: str,
        store_passphrase: Optional[str] = None,
        request_timeout_ms: int = 30000,
        additional_root_certificates: List[str] = [],
    ) -> None: ...

class Session:
    user_id: str
    device_id: str
    access_token: str
    refresh_token: Optional[str]
    homeserver_url: str
    def __init__(
        self,
        *,
        user_id: str,
        device_id: str,
        access_token: str,
        refresh_token: Optional[str],
        homeserver_url: str,
    ) -> None: ...

class LogoutOptions:
    server_timeout_ms: int
    wipe_local_data: bool
    def __init__(self, *, server_timeout_ms: int = 5000, wipe_local_data: bool = True) -> None: ...

class RoomSummary:
    room_id: str
    name: Optional[str]
    is_encrypted: bool
    joined_members: int
    def __init__(
        self, *, room_id: str, name: Optional[str], is_encrypted: bool, joined_members: int
    ) -> None: ...

class Message:
    event_id: str
    room_id: str
    sender: str
    body: str
    timestamp_ms: int
    def __init__(
        self, *, event_id: str, room_id: str, sender: str, body: str, timestamp_ms: int
    ) -> None: ...

class PhaseTiming:
    phase: LifecyclePhase
    elapsed_ms: int
    def __init__(self, *, phase: LifecyclePhase, elapsed_ms: int) -> None: ...

class LogoutReport:
    server_logout: ServerLogout
    phases: List[PhaseTiming]
    total_ms: int
    tasks_drained: int
    store_files_open_after: Optional[int]
    client_dropped: bool
    tasks_left_behind: int
    data_wiped: bool
    runtime_restarted: bool
    runtime_generation: int
    warnings: List[str]
    def __init__(
        self,
        *,
        server_logout: ServerLogout,
        phases: List[PhaseTiming],
        total_ms: int,
        tasks_drained: int,
        store_files_open_after: Optional[int],
        client_dropped: bool,
        tasks_left_behind: int,
        data_wiped: bool,
        runtime_restarted: bool,
        runtime_generation: int,
        warnings: List[str],
    ) -> None: ...

class CloseReport:
    server_logout: ServerLogout
    phases: List[PhaseTiming]
    total_ms: int
    tasks_drained: int
    store_files_open_after: Optional[int]
    client_dropped: bool
    tasks_left_behind: int
    data_wiped: bool
    runtime_restarted: bool
    runtime_generation: int
    warnings: List[str]
    def __init__(
        self,
        *,
        server_logout: ServerLogout,
        phases: List[PhaseTiming],
        total_ms: int,
        tasks_drained: int,
        store_files_open_after: Optional[int],
        client_dropped: bool,
        tasks_left_behind: int,
        data_wiped: bool,
        runtime_restarted: bool,
        runtime_generation: int,
        warnings: List[str],
    ) -> None: ...

class ShutdownReport:
    clients_closed: int
    tasks_drained: int
    tasks_abandoned: List[str]
    total_ms: int
    runtime_generation: int
    already_shut_down: bool
    threads_left: Optional[int]
    def __init__(
        self,
        *,
        clients_closed: int,
        tasks_drained: int,
        tasks_abandoned: List[str],
        total_ms: int,
        runtime_generation: int,
        already_shut_down: bool,
        threads_left: Optional[int],
    ) -> None: ...

class RuntimeStats:
    generation: int
    state: RuntimeState
    alive_tasks: int
    supervised_tasks: List[str]
    worker_threads: int
    live_clients: int
    def __init__(
        self,
        *,
        generation: int,
        state: RuntimeState,
        alive_tasks: int,
        supervised_tasks: List[str],
        worker_threads: int,
        live_clients: int,
    ) -> None: ...

class TaskFailure:
    task_name: str
    reason: TaskFailureReason
    def __init__(self, *, task_name: str, reason: TaskFailureReason) -> None: ...

# --- enums ------------------------------------------------------------------------

class RuntimeState(enum.Enum):
    NOT_STARTED = 0
    RUNNING = 1
    SHUTTING_DOWN = 2
    SHUT_DOWN = 3

class ClientState(enum.Enum):
    CREATED = 0
    LOGGED_IN = 1
    LOGGING_OUT = 2
    CLOSING = 3
    CLOSED = 4

class SyncState(enum.Enum):
    IDLE = 0
    RUNNING = 1
    OFFLINE = 2
    ERROR = 3
    TERMINATED = 4

class LifecyclePhase(enum.Enum):
    STOPPING_SYNC = 0
    SERVER_LOGOUT = 1
    CANCELLING_TASKS = 2
    DROPPING_CLIENT = 3
    CLOSING_STORES = 4
    WIPING_DATA = 5
    RESTARTING_RUNTIME = 6
    DONE = 7

class ServerLogout:
    class REVOKED(ServerLogout):
        def __init__(self) -> None: ...

    class TOKEN_ALREADY_INVALID(ServerLogout):
        def __init__(self) -> None: ...

    class FAILED(ServerLogout):
        reason: str
        def __init__(self, reason: str) -> None: ...

    class TIMED_OUT(ServerLogout):
        def __init__(self) -> None: ...

    class SKIPPED(ServerLogout):
        def __init__(self) -> None: ...

    def is_revoked(self) -> bool: ...
    def is_token_already_invalid(self) -> bool: ...
    def is_failed(self) -> bool: ...
    def is_timed_out(self) -> bool: ...
    def is_skipped(self) -> bool: ...

class TaskFailureReason:
    class PANIC(TaskFailureReason):
        message: str
        def __init__(self, message: str) -> None: ...

    class ERROR(TaskFailureReason):
        message: str
        def __init__(self, message: str) -> None: ...

    class EARLY_TERMINATION(TaskFailureReason):
        def __init__(self) -> None: ...

    def is_panic(self) -> bool: ...
    def is_error(self) -> bool: ...
    def is_early_termination(self) -> bool: ...

# --- errors -----------------------------------------------------------------------

class CoreError(Exception):
    class ClientClosed(CoreError): ...
    class ShuttingDown(CoreError): ...

    class Busy(CoreError):
        operation: str
        def __init__(self, operation: str) -> None: ...

    class InvalidState(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class InvalidArgument(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class Auth(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class Network(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class Server(CoreError):
        status: int
        errcode: str
        detail: str
        def __init__(self, status: int, errcode: str, detail: str) -> None: ...

    class NotFound(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class Storage(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class Timeout(CoreError):
        operation: str
        def __init__(self, operation: str) -> None: ...

    class Internal(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

# --- listeners (subclass these; called on the core's threads) ---------------------

class TaskFailureListener:
    def on_failure(self, failure: TaskFailure) -> None: ...

class SyncStateListener:
    """The current state first, then every change. The last call is
    `on_state(SyncState.TERMINATED)` when the client closes, logs out or is shut
    down (not after `Subscription.cancel()`)."""

    def on_state(self, state: SyncState) -> None: ...

class MessageListener:
    """Every text message that sync delivers. The last call is `on_closed()`."""

    def on_message(self, message: Message) -> None: ...
    def on_closed(self) -> None:
        """The end signal: the client closed, logged out or was shut down. Not
        sent after `Subscription.cancel()`."""

class LifecycleListener:
    def on_phase(self, phase: LifecyclePhase, elapsed_ms: int) -> None: ...

# The same listeners when implemented in Rust (handed out by the core, if ever).
class TaskFailureListenerImpl(TaskFailureListener): ...
class SyncStateListenerImpl(SyncStateListener): ...
class MessageListenerImpl(MessageListener): ...
class LifecycleListenerImpl(LifecycleListener): ...

# --- objects ----------------------------------------------------------------------

class SubscriptionProtocol(Protocol):
    def cancel(self) -> None: ...

class Subscription:
    """Delivers nothing once cancelled or garbage-collected."""

    def cancel(self) -> None: ...

class ClientProtocol(Protocol):
    async def login(
        self, username: str, password: str, device_name: Optional[str]
    ) -> Session: ...
    async def restore(self, session: Session) -> None: ...
    def session(self) -> Optional[Session]: ...
    def user_id(self) -> Optional[str]: ...
    def state(self) -> ClientState: ...
    async def start_sync(self) -> None: ...
    async def stop_sync(self) -> None: ...
    def sync_state(self) -> SyncState: ...
    def observe_sync_state(self, listener: SyncStateListener) -> Subscription:
        """Raises `CoreError.ClientClosed` once the client is closing or closed."""
    async def create_room(self, name: str, invite: List[str], encrypted: bool) -> str: ...
    async def join_room(self, room_id_or_alias: str) -> str: ...
    def rooms(self) -> List[RoomSummary]: ...
    async def send_text(self, room_id: str, body: str) -> str: ...
    async def recent_messages(self, room_id: str, limit: int) -> List[Message]: ...
    def observe_messages(self, listener: MessageListener) -> Subscription:
        """Raises `CoreError.ClientClosed` once the client is closing or closed."""
    async def logout(
        self, options: LogoutOptions, listener: Optional[LifecycleListener]
    ) -> LogoutReport: ...
    async def close(self, listener: Optional[LifecycleListener]) -> CloseReport: ...
    async def pause(self) -> None: ...
    async def resume(self) -> None: ...

class Client(ClientProtocol):
    """A Matrix client. Calls that fail raise `CoreError`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        """Raises ValueError: use `await Client.create(config)`."""
    @classmethod
    async def create(cls, config: ClientConfig) -> Client: ...

# --- process-wide functions -------------------------------------------------------

def configure_runtime(config: RuntimeConfig) -> None: ...
def init_logging(config: LogConfig) -> None: ...
def set_task_failure_listener(listener: Optional[TaskFailureListener]) -> None: ...
def runtime_stats() -> RuntimeStats: ...
async def shutdown(options: ShutdownOptions) -> ShutdownReport: ...
def shutdown_blocking(options: ShutdownOptions) -> ShutdownReport: ...
