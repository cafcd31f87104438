"""Shared pieces of the serving benchmark and the load test: gunicorn on loopback, HTTP clients."""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # load only ever goes to this machine's loopback


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def digit_pngs(count: int = 40) -> list[bytes]:
    """MNIST test digits blown up to a 280x280 canvas, dark on light, as PNG uploads."""
    from PIL import Image

    from models.mnist import load_mnist

    _, _, x_test, _ = load_mnist()
    files = []
    for digit in x_test[:count]:
        buffer = io.BytesIO()
        Image.fromarray(255 - digit).resize((280, 280), Image.BICUBIC).save(buffer, "PNG")
        files.append(buffer.getvalue())
    return files


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def worker_pids(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children()]


def wait_healthy(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not become healthy within {timeout:.0f} s")


@contextlib.contextmanager
def gunicorn(app: str, workers: int = 2, threads: int = 4, log_name: str = "gunicorn",
             config: str = "gunicorn.conf.py", warm: bool = True) -> Iterator[Server]:
    """Run ``gunicorn APP`` with the deployment config on a free loopback port until the block ends.

    ``warm``: send each worker a few predictions first; off, the first request is the first one served.
    ``config=""``: gunicorn's defaults, for an app that loads no model (``bench.floor_app``).
    """
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"digit-inspector-{log_name}-{port}.log"
    command = [sys.executable, "-m", "gunicorn", app, "--config", config or "/dev/null",  # not ./gunicorn.conf.py
               "--bind", f"{HOST}:{port}", "--workers", str(workers), "--threads", str(threads),
               "--worker-class", "gthread", "--graceful-timeout", "5", "--access-logfile", "/dev/null"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, env=env)
    server = Server(f"http://{HOST}:{port}", process, log)
    try:
        wait_healthy(server.url)
        warm_up = digit_pngs(1)[0]
        for _ in range(workers * 4 if warm else 0):  # each worker compiles its functions on its first requests
            post_image(server.url, warm_up)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


class Reply(NamedTuple):
    status: int  # 0: no HTTP answer at all
    ms: float  # as the client saw it
    server_timing: dict[str, float]  # the Server-Timing header's spans, in ms
    size: int = 0  # the answer's body, in bytes


class Payload(NamedTuple):
    """One POST: where to, its body and its content type."""

    path: str
    body: bytes
    content_type: str


def image_payload(data: bytes, query: str = "") -> Payload:
    """A PNG for /api/predict as a raw body."""
    return Payload(f"/api/predict{query}", data, "image/png")


def server_timing(header: str | None) -> dict[str, float]:
    """``"decode;dur=0.31, model;dur=4.2"`` -> ``{"decode": 0.31, "model": 4.2}``."""
    spans = {}
    for entry in (header or "").split(","):
        name, _, parameters = entry.strip().partition(";")
        if parameters.startswith("dur="):
            spans[name] = float(parameters[4:])
    return spans


def post_image(url: str, data: bytes, timeout: float = 30.0, query: str = "") -> Reply:
    """POST one PNG to /api/predict as a raw body, on a connection of its own (closed after)."""
    return post(url, image_payload(data, query), timeout)


def post(url: str, payload: Payload, timeout: float = 30.0) -> Reply:
    """POST one payload on a connection of its own (closed after)."""
    client = Client(url, timeout)
    try:
        return client.post(payload)
    finally:
        client.close()


class Client:
    """A client that keeps one HTTP/1.1 connection open across its requests, as a browser does."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        address = urllib.parse.urlsplit(url)
        self.host, self.port, self.timeout = address.hostname, address.port, timeout
        self.connection: http.client.HTTPConnection | None = None

    def post_image(self, data: bytes, query: str = "") -> Reply:
        """POST one PNG to /api/predict as a raw body."""
        return self.post(image_payload(data, query))

    def post(self, payload: Payload) -> Reply:
        """POST one payload.

        A kept connection that the server has closed meanwhile (its keep-alive timeout) is
        reopened and the request sent again, as HTTP clients do; the time counts from the first try.
        """
        started = time.perf_counter()
        status, timing, size = 0, None, 0
        for _ in range(2):
            reused = self.connection is not None
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self.connection.request("POST", payload.path, body=payload.body,
                                        headers={"Content-Type": payload.content_type})
                response = self.connection.getresponse()
                size = len(response.read())
                status, timing = response.status, response.getheader("Server-Timing")
                if response.will_close:
                    self.close()
                break
            except (OSError, http.client.HTTPException):
                self.close()
                if not reused:
                    break  # a fresh connection failed: that is an error, not a stale connection
        return Reply(status, (time.perf_counter() - started) * 1000, server_timing(timing), size)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@dataclass
class LoadResult:
    statuses: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    server_timings: list[dict[str, float]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, reply: Reply) -> None:
        self.statuses.append(reply.status)
        self.latencies_ms.append(reply.ms)
        self.server_timings.append(reply.server_timing)
        self.sizes.append(reply.size)

    @property
    def errors(self) -> int:
        return sum(status != 200 for status in self.statuses)

    @property
    def throughput(self) -> float:
        return len(self.statuses) / self.seconds

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))


def load(url: str, images: list[bytes], requests: int, clients: int, query: str = "") -> LoadResult:
    """``requests`` POSTs to /api/predict from ``clients`` concurrent keep-alive clients, images in turn."""
    return load_payloads(url, [image_payload(image, query) for image in images], requests, clients)


def load_payloads(url: str, payloads: list[Payload], requests: int, clients: int) -> LoadResult:
    """``requests`` POSTs from ``clients`` concurrent keep-alive clients, payloads in turn."""
    result = LoadResult()
    local = threading.local()
    opened: list[Client] = []

    def send(i: int) -> Reply:
        if not hasattr(local, "client"):
            local.client = Client(url)
            opened.append(local.client)
        return local.client.post(payloads[i % len(payloads)])

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for reply in pool.map(send, range(requests)):
            result.add(reply)
    for client in opened:
        client.close()
    result.seconds = time.perf_counter() - started
    return result


def add_model_option(parser) -> None:
    """``--model PATH_OR_NAME``: the model the app loads, for a bench's own app and its gunicorn workers."""
    parser.add_argument("--model", metavar="PATH_OR_NAME",
                        help="the model the app loads, as DIGIT_INSPECTOR_MODEL (default: digit_cnn)")


def serve_model(model: str | None) -> None:
    """Set DIGIT_INSPECTOR_MODEL for this process and the servers it starts: they read it from their
    environment, as in a deployment."""
    if model:
        os.environ["DIGIT_INSPECTOR_MODEL"] = model
