"""What recording field data costs: ``/api/predict`` p50 with DIGIT_INSPECTOR_FIELD=all on SQLite and on
PostgreSQL, side by side with ``off``. Part of ``make bench``.

Three gunicorn servers (1 worker each) run at once on loopback; one client sends blocks of 20
requests to each in turn (as ``bench.serving_bench``), so all meet the machine in the same state.
PostgreSQL is a throwaway cluster started here (or ``--postgres URL``); without PostgreSQL its
row is left out, with a sentence.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np

from bench.loadtools import Client, LoadResult, add_model_option, digit_pngs, gunicorn, serve_model
from bench.postgres import PostgresCluster, cluster_user, postgres_bin


@contextlib.contextmanager
def field_server(name: str, mode: str, database_url: str):
    """gunicorn with DIGIT_INSPECTOR_FIELD=mode on database_url (its on_starting hook migrates it)."""
    saved = {key: os.environ.get(key) for key in ("DIGIT_INSPECTOR_FIELD", "DIGIT_INSPECTOR_DATABASE_URL")}
    os.environ.update(DIGIT_INSPECTOR_FIELD=mode, DIGIT_INSPECTOR_DATABASE_URL=database_url)
    try:
        with gunicorn("dashapp.wsgi:server", workers=1, log_name=f"field-{name}") as server:
            yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.field_bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--postgres", help="a postgresql+psycopg:// URL to record into (default: a throwaway cluster)")
    add_model_option(parser)
    args = parser.parse_args(argv)
    serve_model(args.model)
    images = digit_pngs()
    folder = Path(tempfile.mkdtemp(prefix="field-bench-"))
    with contextlib.ExitStack() as stack:
        runs = {"off": ("off", f"sqlite:///{folder / 'off.db'}"),
                "all, SQLite": ("all", f"sqlite:///{folder / 'all.db'}")}
        postgres_url = args.postgres
        if postgres_url is None and postgres_bin() is not None:
            cluster = PostgresCluster(postgres_bin(), cluster_user())
            stack.callback(cluster.destroy)
            cluster.init()
            postgres_url = cluster.new_database()
        if postgres_url:
            runs["all, PostgreSQL"] = ("all", postgres_url)
        else:
            print("PostgreSQL is not installed here: its row is left out (apt-get install -y postgresql).")
        urls = {name: stack.enter_context(field_server(name, mode, url)).url for name, (mode, url) in runs.items()}
        results = {name: LoadResult() for name in runs}
        clients = {name: Client(url) for name, url in urls.items()}
        for start in range(0, args.requests, 20):
            for name, client in clients.items():
                for i in range(start, min(start + 20, args.requests)):
                    results[name].add(client.post_image(images[i % len(images)]))
        for client in clients.values():
            client.close()
    print(f"\nPOST /api/predict with field recording, gunicorn 1 worker each on loopback, {args.requests} requests "
          "each (one client, blocks of 20 per server in turn)")
    print(f"{'DIGIT_INSPECTOR_FIELD':<22} {'p50 ms':>8} {'p90 ms':>8} {'+p50 vs off':>12} {'record ms':>10} "
          f"{'errors':>7}")
    base = results["off"].percentile(50)
    for name, result in results.items():
        record = [timing.get("record") for timing in result.server_timings if timing and "record" in timing]
        recorded = f"{np.median(record):10.2f}" if record else f"{'':>10}"
        print(f"{name:<22} {result.percentile(50):8.2f} {result.percentile(90):8.2f} "
              f"{result.percentile(50) - base:+12.2f} {recorded} {result.errors:7d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
