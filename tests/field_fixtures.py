"""Field data fixtures: a throwaway PostgreSQL cluster for the session, and a fresh, migrated database
per test on SQLite and on PostgreSQL (``field_url``).

PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` user. Without
PostgreSQL the PostgreSQL cases are skipped, unless REQUIRE_POSTGRES=1 (CI): then they fail.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from bench.loadtools import free_port

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
_numbers = itertools.count(1)


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresCluster:
    """``initdb`` + ``pg_ctl`` in a temporary folder, on a free port, trusting local connections."""

    def __init__(self, bin_dir: Path, user: str | None) -> None:
        self.bin_dir = bin_dir
        self.user = user  # run the server as this user (root is refused by PostgreSQL)
        self.folder = Path(tempfile.mkdtemp(prefix="field-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        if user:
            entry = pwd.getpwnam(user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run([*prefix, *command], capture_output=True, text=True, check=True, timeout=120)

    def init(self) -> None:
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                  str(self.folder / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"field_{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    """The session's PostgreSQL cluster (skipped without PostgreSQL, failed with REQUIRE_POSTGRES=1)."""
    bin_dir = _postgres_bin()
    user = "postgres" if os.geteuid() == 0 else None
    reason = None
    if bin_dir is None:
        reason = "PostgreSQL is not installed (apt-get install -y postgresql)"
    elif user:
        try:
            pwd.getpwnam(user)
        except KeyError:
            reason = "running as root and there is no postgres user to run PostgreSQL as"
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    cluster = PostgresCluster(bin_dir, user)
    try:
        cluster.init()
    except subprocess.CalledProcessError as exc:
        cluster.destroy()
        message = f"PostgreSQL did not start: {exc.stderr.strip() or exc.stdout.strip()}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    yield cluster
    cluster.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def field_url(request, tmp_path):
    """A fresh, migrated field database: a SQLite file, then a PostgreSQL database."""
    from dashapp.field.engine import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'field.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    migrate(url)
    return url
