"""Field data under gunicorn, as deployed: 2 workers and 8 clients sending feedback at once (a worker
SIGKILLed midway) on SQLite; two servers sharing one PostgreSQL, which is stopped and started again."""

from __future__ import annotations

import http.client
import io
import os
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from PIL import Image
from test_app_deploy import START_TIMEOUT, get, gunicorn, log_of

from bench.loadtools import free_port
from dashapp.field.engine import migrate
from dashapp.field.store import FieldStore

TOKEN = "field-test-token"
CLIENTS, PER_CLIENT = 8, 12


def png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def feedback(url: str, image: bytes, label: str, timeout: float = 30) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"label\"\r\n\r\n{label}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"d.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + image + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{url}/api/feedback", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    import json

    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def summary(url: str) -> dict:
    request = urllib.request.Request(f"{url}/api/field/summary", headers={"Authorization": f"Bearer {TOKEN}"})
    import json

    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def start(database_url: str, workers: int = 2):
    port = free_port()
    process = gunicorn(port, DIGIT_INSPECTOR_WORKERS=str(workers), DIGIT_INSPECTOR_DATABASE_URL=database_url,
                       DIGIT_INSPECTOR_ADMIN_TOKEN=TOKEN)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if get(f"{url}/api/health")[0] == 200:
                return process, url
        except (urllib.error.URLError, ConnectionError):
            pass
        assert process.poll() is None, log_of(process)
        assert time.monotonic() < deadline, "gunicorn did not become healthy"
        time.sleep(0.5)


def stop(process) -> None:
    process.terminate()
    process.wait(timeout=60)
    process.log.unlink(missing_ok=True)


def workers_of(process) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds gunicorn's workers in /proc")
def test_eight_clients_two_workers_and_a_killed_worker_lose_nothing_acknowledged(tmp_path, mnist_test):
    url = f"sqlite:///{tmp_path / 'field.db'}"  # gunicorn's on_starting migrates it
    process, server = start(url)
    images = [png(mnist_test[0][i]) for i in range(10)]
    acknowledged, refused, failed = [], [], []
    lock = threading.Lock()
    sent = threading.Semaphore(0)

    def client(number: int) -> None:
        for i in range(PER_CLIENT):
            try:
                status, body = feedback(server, images[(number + i) % 10], str((number + i) % 10))
            except (OSError, http.client.HTTPException) as exc:  # URLError, a reset, a cut answer
                with lock:
                    failed.append(repr(exc))  # in flight on the killed worker
                continue
            finally:
                sent.release()
            with lock:
                (acknowledged if status == 201 else refused).append(body.get("id") if status == 201 else body)

    try:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for _ in range(CLIENTS * PER_CLIENT // 3):
            sent.acquire()
        os.kill(workers_of(process)[0], signal.SIGKILL)  # a third of the way in
        for thread in threads:
            thread.join()
        assert not refused, (refused, log_of(process))  # no "database is locked", no 5xx
        assert len(failed) <= 4 * 2  # only requests in flight on the killed worker (4 threads each)
        assert len(acknowledged) + len(failed) == CLIENTS * PER_CLIENT
        stored = FieldStore(url).export()["ids"].tolist()
        assert len(stored) == len(set(stored))
        assert set(acknowledged) <= set(stored)  # every acknowledged record is there, once
        assert len(stored) - len(acknowledged) <= len(failed)  # the rest: stored, answer lost with the worker
        assert summary(server)["labeled"] == len(stored)
        status, body = feedback(server, images[0], "7")  # gunicorn replaced the worker; all still works
        assert status == 201
    finally:
        stop(process)


def test_two_servers_share_postgres_and_survive_it_stopping(postgres, mnist_test):
    database = postgres.new_database()
    migrate(database)
    first, first_url = start(database, workers=1)
    second, second_url = start(database, workers=1)
    seven = png(mnist_test[0][0])
    try:
        ids = [feedback(first_url, seven, "7")[1]["id"] for _ in range(3)]
        assert summary(second_url)["labeled"] == 3  # sent to one server, counted on the other
        postgres.stop()
        try:
            status, body = get(f"{first_url}/api/predict", seven, "image/png")
            assert status == 200 and body["top"][0]["digit"] == 7  # predictions do not need the database
            status, body = feedback(first_url, seven, "7")
            assert status == 503 and "cannot be reached or written" in body["error"]
        finally:
            postgres.start()
        deadline = time.monotonic() + 30
        while (status := feedback(second_url, seven, "7")[0]) != 201 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert status == 201  # recovered by itself
        assert feedback(first_url, seven, "1")[0] == 201
        assert summary(first_url)["labeled"] == 5 and set(ids) <= set(FieldStore(database).export()["ids"].tolist())
    finally:
        stop(first)
        stop(second)
