"""``gunicorn dashapp.wsgi:server`` from the repository root, as deployed: TensorFlow only in the workers."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from bench.loadtools import free_port

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 120  # a worker imports TensorFlow and loads the model before it takes requests


def gunicorn(port: int, **env: str) -> subprocess.Popen:
    """Its output goes to a file, not a pipe nobody reads: a full pipe would stall the workers' logging."""
    environment = {**os.environ, "DIGIT_INSPECTOR_BIND": f"127.0.0.1:{port}", "DIGIT_INSPECTOR_WORKERS": "1",
                   "DIGIT_INSPECTOR_THREADS": "2", "DIGIT_INSPECTOR_ACCESS_LOG": "", **env}
    with tempfile.NamedTemporaryFile("w", prefix="gunicorn-", suffix=".log", delete=False) as log:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "dashapp.wsgi:server"], cwd=ROOT,
                                   env=environment, stdout=log, stderr=subprocess.STDOUT, text=True)
    process.log = Path(log.name)
    return process


def log_of(process: subprocess.Popen, tail: int = 20_000) -> str:
    """What gunicorn and its workers printed (the last ``tail`` characters), for a failing assertion."""
    return process.log.read_text(errors="replace")[-tail:]


def get(url: str, data: bytes | None = None, content_type: str = "") -> tuple[int, dict]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def loads_tensorflow(pid: int) -> bool:
    return "tensorflow" in Path(f"/proc/{pid}/maps").read_text()


@pytest.fixture
def server():
    port = free_port()
    process = gunicorn(port)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if get(f"{url}/api/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert process.poll() is None, log_of(process)
            assert time.monotonic() < deadline, "gunicorn did not become healthy"
            time.sleep(0.5)
        yield process, url
    finally:
        process.terminate()
        process.wait(timeout=60)
        process.log.unlink(missing_ok=True)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc to see who loaded TensorFlow")
def test_gunicorn_serves_the_app_with_tensorflow_only_in_workers(server, mnist_test):
    process, url = server
    x, _ = mnist_test
    buffer = io.BytesIO()
    Image.fromarray(x[0]).save(buffer, "PNG")
    status, body = get(f"{url}/api/predict", buffer.getvalue(), "image/png")
    assert status == 200 and body["top"][0]["digit"] == 7
    with urllib.request.urlopen(f"{url}/layers", timeout=30) as page:
        assert page.status == 200 and b"_dash-config" in page.read()

    workers = [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
    assert workers
    assert not loads_tensorflow(process.pid)  # TensorFlow is not fork-safe: never in the master
    assert all(loads_tensorflow(pid) for pid in workers)


def test_gunicorn_stops_with_one_sentence_when_the_model_is_missing(tmp_path):
    missing = tmp_path / "nowhere.keras"
    process = gunicorn(free_port(), DIGIT_INSPECTOR_MODEL=str(missing))
    try:
        process.wait(timeout=START_TIMEOUT)
    finally:
        process.kill()
    stderr = log_of(process)
    process.log.unlink()
    assert process.returncode != 0
    assert f"Model file {missing} does not exist" in stderr and "python -m train" in stderr
