"""Engines (one per database URL and process) and migrations.

An engine is made on first use in the process that uses it: a connection pool must never cross
a fork, so a gunicorn worker makes its own after the fork, and an engine inherited from a parent
process is left alone, never used. SQLite runs in WAL mode (readers never wait for the writer)
with a busy timeout, and every write takes the write lock when it begins (``BEGIN IMMEDIATE``):
one writer at a time, queued by SQLite instead of failing with "database is locked".
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another one before SQLite gives up
CONNECT_TIMEOUT_S = 3  # PostgreSQL down: fail fast, so that feedback answers 503 instead of hanging
MIGRATION_LOCK = 1_972_019  # the PostgreSQL advisory lock that lets one server migrate at a time

_engines: dict[str, tuple[int, Engine]] = {}
_lock = threading.Lock()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (None for an in-memory one)."""
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def _sqlite_engine(url: str) -> Engine:
    # isolation_level=None: the driver leaves transactions alone; the "begin" hook starts them.
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "isolation_level": None,
                                              "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at each checkpoint, never corrupt
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A deferred transaction that reads and then writes cannot wait for the lock (SQLITE_BUSY at
        # once); an immediate one queues for it under the busy timeout.
        writing = connection.get_execution_options().get("writing", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


def _make_engine(url: str) -> Engine:
    if is_sqlite(url):
        return _sqlite_engine(url)
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_S} if make_url(url).get_backend_name() == "postgresql" else {}
    # No pre-ping (a round trip per request): a connection found dead is retried once by the store.
    return create_engine(url, pool_size=4, max_overflow=8, pool_timeout=5, connect_args=connect_args)


def engine_for(url: str) -> Engine:
    """This process's engine for ``url``, made on first use (after a fork, a new one)."""
    pid = os.getpid()
    with _lock:
        made = _engines.get(url)
        if made is None or made[0] != pid:
            made = (pid, _make_engine(url))
            _engines[url] = made
        return made[1]


def reset(url: str) -> None:
    """Close this process's pooled connections to ``url``: after an error the next use connects afresh
    (a database that came back, a SQLite file that became writable again)."""
    with _lock:
        made = _engines.get(url)
    if made and made[0] == os.getpid():
        made[1].dispose()


@contextlib.contextmanager
def writing(url: str) -> Iterator[Connection]:
    """A connection in a write transaction, committed on leaving (rolled back on an exception)."""
    with engine_for(url).connect().execution_options(writing=True) as connection, connection.begin():
        yield connection


@contextlib.contextmanager
def reading(url: str) -> Iterator[Connection]:
    with engine_for(url).connect() as connection, connection.begin():
        yield connection


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(url: str) -> str | None:
    with engine_for(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextlib.contextmanager
def _migration_lock(url: str, connection: Connection) -> Iterator[None]:
    """One migrator at a time: two servers starting together never both create the table."""
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is None:
            yield
            return
        with open(path.with_name(path.name + ".migrate-lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})


def migrate(url: str) -> str:
    """Bring the database at ``url`` to the newest schema (creating a SQLite file and its folder); its revision."""
    path = sqlite_path(url) if is_sqlite(url) else None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = _make_engine(url)  # its own, closed after: the migrating process may be about to fork
    try:
        with engine.connect() as connection:
            with _migration_lock(url, connection):
                connection.commit()
                command.upgrade(_alembic_config(connection), "head")
                connection.commit()
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
