"""Serving speed: ``/api/predict`` under gunicorn against the naive server, same images, same run.

Part of ``make bench``. Both servers run on loopback with 2 workers; latency is measured with
one client, throughput with 4 concurrent clients. The naive server is measured twice: as the
original app answered (no faithfulness scores), and answering the same object as ours.
"""

from __future__ import annotations

import argparse

from dashapp.loadtools import digit_pngs, gunicorn, load

NAIVE = ("dashapp.naive_server:server", "python:dashapp.naive_server")  # no model service for the conf's hook
OURS = ("dashapp.wsgi:server", "gunicorn.conf.py")
# (name, (app, gunicorn config), query)
RUNS = (("naive", NAIVE, ""), ("naive + faithfulness", NAIVE, "?faithfulness=1"), ("Digit Inspector", OURS, ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashapp.serving_bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    images = digit_pngs()
    results = {}
    for name, (app, config), query in RUNS:
        with gunicorn(app, workers=2, log_name=name.split()[0].lower(), config=config) as server:
            latency = load(server.url, images, args.requests, clients=1, query=query)
            throughput = load(server.url, images, args.requests * 2, clients=4, query=query)
        results[name] = (latency, throughput)
    print(f"\nPOST /api/predict, 280x280 PNG uploads, gunicorn 2 workers on loopback, {args.requests} requests")
    print(f"{'server':<22} {'p50 ms':>8} {'p90 ms':>8} {'req/s (4 clients)':>18} {'errors':>7}")
    for name, (latency, throughput) in results.items():
        print(f"{name:<22} {latency.percentile(50):8.2f} {latency.percentile(90):8.2f} "
              f"{throughput.throughput:18.1f} {latency.errors + throughput.errors:7d}")
    ours_latency, ours_throughput = results["Digit Inspector"]
    for name in ("naive", "naive + faithfulness"):
        latency, throughput = results[name]
        print(f"ours vs {name}: p50 {ours_latency.percentile(50) / latency.percentile(50):.3f}x, "
              f"throughput {ours_throughput.throughput / throughput.throughput:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
