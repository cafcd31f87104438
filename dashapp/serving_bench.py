"""Serving speed: ``/api/predict`` under gunicorn against the naive server, same images, same run.

Part of ``make bench``. Both servers run on loopback with 2 workers; latency is measured with
one client, throughput with 4 concurrent clients.
"""

from __future__ import annotations

import argparse

from dashapp.loadtools import digit_pngs, gunicorn, load

SERVERS = (("naive server", "dashapp.naive_server:server"), ("Digit Inspector", "dashapp.wsgi:server"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashapp.serving_bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    images = digit_pngs()
    results = {}
    for name, app in SERVERS:
        with gunicorn(app, workers=2, log_name=name.split()[0].lower()) as server:
            latency = load(server.url, images, args.requests, clients=1)
            throughput = load(server.url, images, args.requests * 2, clients=4)
        results[name] = (latency, throughput)
    naive_latency, naive_throughput = results["naive server"]
    print(f"\nPOST /api/predict, 280x280 PNG uploads, gunicorn 2 workers on loopback, {args.requests} requests")
    print(f"{'server':<18} {'p50 ms':>8} {'p90 ms':>8} {'p50 ratio':>10} "
          f"{'req/s (4 clients)':>18} {'ratio':>7} {'errors':>7}")
    for name, (latency, throughput) in results.items():
        print(f"{name:<18} {latency.percentile(50):8.2f} {latency.percentile(90):8.2f} "
              f"{latency.percentile(50) / naive_latency.percentile(50):9.2f}x {throughput.throughput:18.1f} "
              f"{throughput.throughput / naive_throughput.throughput:6.1f}x {latency.errors + throughput.errors:7d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
