"""Files that live next to a model: its training metadata and its evaluation report.

``train`` writes them, the app only reads them, so the code for both sides lives here
and the app never imports ``train``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def metadata_path(model_path: str | Path) -> Path:
    return Path(model_path).with_suffix(".meta.json")


def report_path(model_path: str | Path) -> Path:
    return Path(model_path).with_suffix(".report.json")


def write_json(path: Path, data: dict[str, Any]) -> Path:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)  # atomic: a reader never sees half a report
    return path


def read_json(path: Path) -> dict[str, Any] | None:
    """The file's JSON object, or None if it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_metadata(model_path: str | Path, metadata: dict[str, Any]) -> Path:
    return write_json(metadata_path(model_path), metadata)


def read_metadata(model_path: str | Path) -> dict[str, Any] | None:
    return read_json(metadata_path(model_path))


def write_report(model_path: str | Path, report: dict[str, Any]) -> Path:
    return write_json(report_path(model_path), report)


def read_report(model_path: str | Path) -> dict[str, Any] | None:
    """The evaluation report, or None if it is missing or unreadable."""
    return read_json(report_path(model_path))


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock shared by every process on this machine (gunicorn workers), held while inside."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
