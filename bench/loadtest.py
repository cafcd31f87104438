"""Load and fault test against gunicorn on loopback: ``make loadtest``.

2 workers, 8 concurrent clients, 2000 POST /api/predict, then 2000 of the predict page's stroke
callback (POST /_dash-update-component, as the browser sends it: bench.callback_bench), each on a
fresh gunicorn. In each, one worker is killed (SIGKILL) a third of the way in: gunicorn must
replace it, at most its in-flight requests may fail, ``/api/health`` must keep answering, and
each worker's RSS must stay under 1.5 GB and flat. Then live reading under load: 8 people
drawing at once (each a client that sends the predict page's live readings, POST /_live-reading,
as assets/live.js does: one in flight, at most one every 60 ms, the stroke growing), each must get
>= 5 readings a second, with no errors and no growing queue (the round trip of the last quarter
at most twice the first's + 25 ms, p50). Exits 1 if any of that does not hold.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Callable

import numpy as np

from bench.callback_bench import DRAWINGS, json_payload, stroke_bodies
from bench.loadtools import Client, Payload, Server, digit_pngs, gunicorn, image_payload, post

RSS_LIMIT_MB = 1536


def api_payloads(_server: Server) -> list[Payload]:
    return [image_payload(png) for png in digit_pngs()]


def callback_payloads(server: Server) -> list[Payload]:
    """The stroke callback's requests, built from the served app's callback map."""
    with urllib.request.urlopen(f"{server.url}/_dash-dependencies", timeout=30) as response:
        dependencies = json.loads(response.read())
    with urllib.request.urlopen(f"{server.url}/api/model", timeout=30) as response:
        layer = json.loads(response.read())["default_layer"]
    return [json_payload(body) for body in stroke_bodies(dependencies, layer)]


PHASES: dict[str, Callable[[Server], list[Payload]]] = {
    "POST /api/predict": api_payloads,
    "the stroke callback (POST /_dash-update-component)": callback_payloads,
}


def load_with_a_kill(name: str, payloads_of: Callable[[Server], list[Payload]], args: argparse.Namespace) -> bool:
    """One phase: ``args.requests`` requests from ``args.clients`` clients, a worker killed a third of the way."""
    import psutil

    statuses: list[int] = []
    health_failures: list[str] = []
    rss: dict[int, list[float]] = {}
    done = threading.Event()
    lock = threading.Lock()
    next_request = iter(range(args.requests))

    with gunicorn("dashapp.wsgi:server", workers=args.workers, threads=args.threads, log_name="loadtest") as server:
        payloads = payloads_of(server)
        first_workers = server.worker_pids()

        def client() -> None:
            while True:
                with lock:
                    i = next(next_request, None)
                if i is None:
                    return
                status = post(server.url, payloads[i % len(payloads)]).status
                with lock:
                    statuses.append(status)

        def watch() -> None:
            while not done.is_set():
                for pid in server.worker_pids():
                    try:
                        rss.setdefault(pid, []).append(psutil.Process(pid).memory_info().rss / 2**20)
                    except psutil.NoSuchProcess:
                        pass
                try:
                    with urllib.request.urlopen(f"{server.url}/api/health", timeout=5) as response:
                        if response.status != 200:
                            health_failures.append(str(response.status))
                except Exception as exc:  # any failure to answer counts
                    health_failures.append(type(exc).__name__)
                time.sleep(0.25)

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        watcher = threading.Thread(target=watch)
        for thread in (*threads, watcher):
            thread.start()
        while len(statuses) < args.requests // 3:
            time.sleep(0.05)
        victim = first_workers[0]
        os.kill(victim, signal.SIGKILL)
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        done.set()
        watcher.join()
        final_workers = server.worker_pids()

    errors = sum(status != 200 for status in statuses)
    replaced = victim not in final_workers and len(final_workers) == args.workers
    peak = max(max(samples) for samples in rss.values())
    survivors = [rss[pid] for pid in first_workers if pid != victim and len(rss.get(pid, [])) >= 8]
    growth = max((s[-1] - s[len(s) // 4]) / s[len(s) // 4] for s in survivors) if survivors else 0.0
    checks = {
        f"{args.requests} requests answered": len(statuses) == args.requests,
        # each client has one request in flight, so at most that many can die with the worker
        f"errors only from requests in flight at the kill ({errors} <= {args.clients})": errors <= args.clients,
        "killed worker replaced": replaced,
        f"/api/health answered throughout ({len(health_failures)} failures)": not health_failures,
        f"worker RSS peak {peak:.0f} MB <= {RSS_LIMIT_MB} MB": peak <= RSS_LIMIT_MB,
        f"worker RSS flat (growth {growth:+.1%} after warm-up)": growth <= 0.10,
    }
    print(f"{name}: {args.requests} requests, {args.clients} clients, {args.workers} workers: {seconds:.1f} s, "
          f"{args.requests / seconds:.0f} req/s, {errors} errors; killed worker {victim}")
    for pid, samples in rss.items():
        print(f"  worker {pid} RSS MB: " + " ".join(f"{v:.0f}" for v in samples[:: max(1, len(samples) // 12)]))
    for check, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {check}")
    return all(checks.values())


LIVE_INTERVAL = 0.06  # s: assets/live.js MIN_INTERVAL
LIVE_RATE = 5.0  # readings a second each person must at least get


def live_payloads() -> list[Payload]:
    """The live readings of drawing each of bench.callback_bench's digits: the strokes so far, every
    10 points of the pen (about what 60 ms of drawing adds)."""
    payloads = []
    for paths in DRAWINGS.values():
        for done, path in enumerate(paths):
            points = path[1:].split("L")
            for end in range(2, len(points) + 1, 10):
                so_far = [*paths[:done], "M" + "L".join(points[:end])]
                payloads.append(Payload("/_live-reading", json.dumps({"strokes": so_far, "options": {}}).encode(),
                                        "application/json"))
    return payloads


def live_under_load(args: argparse.Namespace) -> bool:
    """``args.clients`` people drawing at once for ``args.live_seconds``, each with live reading on."""
    payloads = live_payloads()
    results: list[list[tuple[float, int, float]]] = [[] for _ in range(args.clients)]  # (sent at, status, ms)

    with gunicorn("dashapp.wsgi:server", workers=args.workers, threads=args.threads,
                  log_name="loadtest-live") as server:
        started = time.perf_counter()

        def person(index: int) -> None:
            client = Client(server.url)
            step = index * 7  # each person at another point of another drawing
            while (now := time.perf_counter()) - started < args.live_seconds:
                reply = client.post(payloads[step % len(payloads)])
                results[index].append((now - started, reply.status, reply.ms))
                step += 1
                time.sleep(max(0.0, now + LIVE_INTERVAL - time.perf_counter()))
            client.close()

        threads = [threading.Thread(target=person, args=(i,)) for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    rates = [len(rows) / args.live_seconds for rows in results]
    statuses = collections.Counter(status for rows in results for _, status, _ in rows)
    errors = sum(count for status, count in statuses.items() if status != 200)
    trips = sorted((at, ms) for rows in results for at, _, ms in rows)
    quarter = len(trips) // 4
    first, last = (float(np.median([ms for _, ms in part])) for part in (trips[:quarter], trips[-quarter:]))
    checks = {
        f"each person >= {LIVE_RATE:.0f} readings/s (slowest {min(rates):.1f}, median {np.median(rates):.1f})":
            min(rates) >= LIVE_RATE,
        f"no errors ({errors}; answers by status: {dict(statuses)})": errors == 0,
        # One reading in flight per person bounds the queue at 8; on shared cores the round trip
        # still moves with the neighbours' load, so "growing" means more than doubling.
        f"no growing queue (round trip p50 {first:.0f} ms in the first quarter, {last:.0f} ms in the last)":
            last <= 2 * first + 25,
    }
    print(f"live reading: {args.clients} people drawing at once for {args.live_seconds:.0f} s, {args.workers} workers: "
          f"{sum(map(len, results))} readings, round trip p50 {np.median([ms for _, ms in trips]):.0f} ms, "
          f"p90 {np.percentile([ms for _, ms in trips], 90):.0f} ms")
    for check, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {check}")
    return all(checks.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="per phase")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--live-seconds", type=float, default=20.0, help="live reading under load")
    parser.add_argument("--only", choices=("api", "callback", "live"), help="run one phase only")
    args = parser.parse_args(argv)
    phases = list(PHASES.items())
    if args.only in ("api", "callback"):
        phases = [phases[0 if args.only == "api" else 1]]
    elif args.only == "live":
        phases = []
    results = [load_with_a_kill(name, payloads_of, args) for name, payloads_of in phases]
    if args.only in (None, "live"):
        results.append(live_under_load(args))
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
