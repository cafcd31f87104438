"""Serving speed: ``/api/predict`` under gunicorn against the naive server, same images, same run.

Part of ``make bench``. Both servers run at once on loopback, 2 workers each. Latency is
measured by one client, in rounds: each round sends a block of back-to-back requests to every
server in turn, so that all of them meet the machine in the same states (the speed of this
machine drifts by 20 % within minutes). Blocks, not single requests in turn: a server that sat
idle while another one worked wakes up slower, and that is not what a loaded server sees.
Throughput is measured by 4 concurrent clients, one server at a time. Clients keep their
connection open between requests, as browsers and HTTP client libraries do. The naive server
is measured twice: as the original app answered (no faithfulness scores), and answering the
same object as ours. Our answers' ``Server-Timing`` header splits our time into decode,
normalise, model and JSON; the rest of what the client waits is HTTP and the framework.
"""

from __future__ import annotations

import argparse
import contextlib

import numpy as np

from bench.loadtools import Client, LoadResult, add_model_option, digit_pngs, gunicorn, load, serve_model

SERVERS = {  # name: (app, gunicorn config)
    "naive": ("bench.naive_server:server", "python:bench.naive_server"),  # no model service for the hook
    "ours": ("dashapp.wsgi:server", "gunicorn.conf.py"),
}
# (name, server, query)
RUNS = (("naive", "naive", ""), ("naive + faithfulness", "naive", "?faithfulness=1"),
        ("Digit Inspector", "ours", ""))
OURS = "Digit Inspector"


def interleaved_latency(urls: dict[str, str], images: list[bytes], requests: int,
                        block: int = 20) -> dict[str, LoadResult]:
    """One client; rounds of ``block`` back-to-back requests per run, the same images for each run."""
    results = {name: LoadResult() for name, _, _ in RUNS}
    clients = {name: Client(urls[server]) for name, server, _ in RUNS}
    for start in range(0, requests, block):
        for name, _, query in RUNS:
            for i in range(start, min(start + block, requests)):
                results[name].add(clients[name].post_image(images[i % len(images)], query))
    for client in clients.values():
        client.close()
    return results


def where_time_goes(result: LoadResult) -> str:
    """Median milliseconds per Server-Timing span, and what the client waited beyond them."""
    spans = [timing for timing in result.server_timings if timing]
    names = list(spans[0]) if spans else []
    medians = {name: np.median([timing.get(name, 0.0) for timing in spans]) for name in names}
    rest = np.median([ms - sum(timing.values()) for ms, timing in zip(result.latencies_ms, result.server_timings,
                                                                      strict=True) if timing])
    parts = [f"{name} {ms:.2f}" for name, ms in medians.items()] + [f"HTTP + framework {rest:.2f}"]
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serving_bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    add_model_option(parser)
    args = parser.parse_args(argv)
    serve_model(args.model)
    images = digit_pngs()
    with contextlib.ExitStack() as stack:
        urls = {name: stack.enter_context(gunicorn(app, workers=2, log_name=name, config=config)).url
                for name, (app, config) in SERVERS.items()}
        latency = interleaved_latency(urls, images, args.requests)
        throughput = {name: load(urls[server], images, args.requests * 2, clients=4, query=query)
                      for name, server, query in RUNS}
    print(f"\nPOST /api/predict, 280x280 PNG uploads, gunicorn 2 workers each on loopback, {args.requests} requests "
          "per server (latency: one client, blocks of 20 per server in turn)")
    print(f"{'server':<22} {'p50 ms':>8} {'p90 ms':>8} {'req/s (4 clients)':>18} {'errors':>7}")
    for name, _, _ in RUNS:
        errors = latency[name].errors + throughput[name].errors
        print(f"{name:<22} {latency[name].percentile(50):8.2f} {latency[name].percentile(90):8.2f} "
              f"{throughput[name].throughput:18.1f} {errors:7d}")
    for name in ("naive", "naive + faithfulness"):
        print(f"ours vs {name}: p50 {latency[OURS].percentile(50) / latency[name].percentile(50):.3f}x, "
              f"throughput {throughput[OURS].throughput / throughput[name].throughput:.1f}x")
    print(f"ours, where a request's time goes (median ms): {where_time_goes(latency[OURS])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
