"""Field data fixtures: a throwaway PostgreSQL cluster for the session, and a fresh, migrated database
per test on SQLite and on PostgreSQL (``field_url``).

PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` user. Without
PostgreSQL the PostgreSQL cases are skipped, unless REQUIRE_POSTGRES=1 (CI): then they fail.
"""

from __future__ import annotations

import os
import pwd
import subprocess

import pytest

from bench.postgres import PostgresCluster, cluster_user, postgres_bin

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres():
    """The session's PostgreSQL cluster (skipped without PostgreSQL, failed with REQUIRE_POSTGRES=1)."""
    bin_dir = postgres_bin()
    user = cluster_user()
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
