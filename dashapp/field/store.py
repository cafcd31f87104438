"""Every query on the field records: the API, the callbacks and the CLI call these and write no SQL.

Aggregates (counts per day and model, the confusion matrix, histograms) are computed by the
database, so that the ``/field`` page answers quickly over 100,000 records.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Integer, and_, cast, delete, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from dashapp.field import engine
from dashapp.field.records import LABELS, NOT_A_DIGIT, FieldInputError, input_array
from dashapp.field.schema import records

log = logging.getLogger(__name__)
PURGE_EVERY_S = 3600  # with a retention period, old records go at most this long after they expire


class FieldUnavailable(RuntimeError):
    """The field database cannot be reached or written; the message says so in one sentence."""


class UnknownRecord(FieldInputError):
    """No record has that id (never made, or deleted)."""


@dataclass(frozen=True)
class Filters:
    """Which records a question is about: one model (None: all) and a range of UTC days (inclusive)."""

    model: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def clauses(self) -> list:
        clauses = []
        if self.model:
            clauses.append(records.c.model == self.model)
        if self.since:
            clauses.append(records.c.created_day >= self.since)
        if self.until:
            clauses.append(records.c.created_day <= self.until)
        return clauses


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _missing_tables(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


class FieldStore:
    """The records of one database, reached through this process's engine (made after the fork)."""

    def __init__(self, url: str, retention_days: int = 0) -> None:
        self.url = url
        self.retention_days = retention_days
        self._last_purge = 0.0
        self._purge_lock = threading.Lock()

    @property
    def backend(self) -> str:
        return "SQLite" if engine.is_sqlite(self.url) else "PostgreSQL"

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Database failures become one sentence (``FieldUnavailable``); the pool is emptied so that the
        next call connects afresh and the store recovers by itself once the database is back."""
        try:
            yield
        except IntegrityError as exc:
            raise FieldInputError("The record does not fit the field data's rules (a label from 0 to 9 or "
                                  f"\"not a digit\", a known source): {exc.orig}") from None
        except (DBAPIError, SQLAlchemyError, OSError) as exc:
            engine.reset(self.url)
            if _missing_tables(exc):
                raise FieldUnavailable("The field database has no tables yet: run `python -m dashapp.field "
                                       "migrate` (make run does it at start-up).") from None
            log.warning("field database unavailable: %s", exc)
            raise FieldUnavailable(f"The field database ({self.backend}) cannot be reached or written just now, "
                                   "so nothing was kept: try again in a moment.") from None

    # --- writing ------------------------------------------------------------------------------------------

    def add(self, values: dict[str, Any]) -> int:
        """Insert a record (``records.new_record``'s values); its id."""
        now = _now()
        row = {**values, "created_at": now, "created_day": now.date(),
               "labeled_at": now if values.get("label") is not None else None}
        with self._guard():
            try:
                record_id = self._insert(row)
            except DBAPIError as exc:
                if not exc.connection_invalidated:  # a pooled connection the database dropped (a restart):
                    raise  # nothing was written on it, so once more on a fresh one
                record_id = self._insert(row)
        self._purge_when_due()
        return record_id

    def _insert(self, row: dict[str, Any]) -> int:
        with engine.writing(self.url) as connection:
            return int(connection.execute(records.insert().values(**row)).inserted_primary_key[0])

    def set_label(self, record_id: int, label: int) -> None:
        with self._guard(), engine.writing(self.url) as connection:
            changed = connection.execute(update(records).where(records.c.id == record_id)
                                         .values(label=label, labeled_at=_now())).rowcount
        if not changed:
            raise UnknownRecord(f"There is no field record {record_id}: send an id that a recorded prediction "
                                "answered with.")

    def delete(self, record_id: int) -> None:
        with self._guard(), engine.writing(self.url) as connection:
            deleted = connection.execute(delete(records).where(records.c.id == record_id)).rowcount
        if not deleted:
            raise UnknownRecord(f"There is no field record {record_id} (never made, or already deleted).")

    def delete_all(self, filters: Filters = Filters()) -> int:
        with self._guard(), engine.writing(self.url) as connection:
            return int(connection.execute(delete(records).where(*filters.clauses())).rowcount)

    def purge(self, days: int | None = None) -> int:
        """Delete the records older than ``days`` (default: the retention setting; 0 deletes none)."""
        days = self.retention_days if days is None else days
        if days <= 0:
            return 0
        cutoff = _now() - dt.timedelta(days=days)
        with self._guard(), engine.writing(self.url) as connection:
            return int(connection.execute(delete(records).where(records.c.created_at < cutoff)).rowcount)

    def _purge_when_due(self) -> None:
        if self.retention_days <= 0 or time.monotonic() - self._last_purge < PURGE_EVERY_S:
            return
        with self._purge_lock:
            if time.monotonic() - self._last_purge < PURGE_EVERY_S:
                return
            self._last_purge = time.monotonic()
        try:
            self.purge()
        except FieldUnavailable:
            self._last_purge = 0.0  # try again next time

    # --- reading --------------------------------------------------------------------------------------------

    def summary(self, filters: Filters = Filters()) -> dict[str, Any]:
        """``GET /api/field/summary``'s object: counts, accuracy and the 11x11 confusion matrix."""
        query = (select(records.c.label, records.c.answer, func.count())
                 .where(*filters.clauses()).group_by(records.c.label, records.c.answer))
        with self._guard(), engine.reading(self.url) as connection:
            rows = connection.execute(query).all()
        matrix = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
        total = 0
        for label, answer, count in rows:
            total += count
            if label is not None:
                matrix[label, answer] += count
        labeled = int(matrix.sum())
        return {"records": int(total), "labeled": labeled,
                "accuracy": float(np.trace(matrix) / labeled) if labeled else None,
                "confusion_matrix": matrix.tolist(), "labels": list(LABELS)}

    def activity(self, filters: Filters = Filters()) -> list[dict[str, Any]]:
        """Records and labels per UTC day and model, oldest day first."""
        query = (select(records.c.created_day, records.c.model, func.count(), func.count(records.c.label))
                 .where(*filters.clauses()).group_by(records.c.created_day, records.c.model)
                 .order_by(records.c.created_day, records.c.model))
        with self._guard(), engine.reading(self.url) as connection:
            rows = connection.execute(query).all()
        return [{"day": _as_date(day).isoformat(), "model": model, "records": int(count), "labeled": int(labeled)}
                for day, model, count, labeled in rows]

    def model_names(self) -> list[str]:
        with self._guard(), engine.reading(self.url) as connection:
            return sorted(connection.execute(select(records.c.model).distinct()).scalars())

    def histogram(self, column: str, bins: int, low: float, high: float,
                  filters: Filters = Filters()) -> np.ndarray:
        """Counts of ``column`` (confidence, novelty_score) in ``bins`` equal bins over [low, high], in SQL."""
        value = records.c[column]
        width = (high - low) / bins or 1.0
        scaled = (value - low) / width
        # floor(), not a cast: PostgreSQL rounds when casting to integer, SQLite truncates.
        bucket = cast(scaled, Integer) if engine.is_sqlite(self.url) else cast(func.floor(scaled), Integer)
        query = (select(bucket, func.count()).where(value.is_not(None), *filters.clauses()).group_by(bucket))
        counts = np.zeros(bins, dtype=np.int64)
        with self._guard(), engine.reading(self.url) as connection:
            for index, count in connection.execute(query).all():
                counts[min(max(int(index), 0), bins - 1)] += count
        return counts

    def value_range(self, column: str, filters: Filters = Filters()) -> tuple[float, float] | None:
        value = records.c[column]
        with self._guard(), engine.reading(self.url) as connection:
            low, high = connection.execute(select(func.min(value), func.max(value))
                                           .where(value.is_not(None), *filters.clauses())).one()
        return None if low is None else (float(low), float(high))

    def cell(self, label: int, answer: int, filters: Filters = Filters(), limit: int = 30) -> list[dict[str, Any]]:
        """The records a person labelled ``label`` that the model answered ``answer``, most confident first."""
        query = (select(records.c.id, records.c.model, records.c.input, records.c.thumbnail, records.c.label,
                        records.c.answer, records.c.confidence, records.c.created_at)
                 .where(and_(records.c.label == label, records.c.answer == answer), *filters.clauses())
                 .order_by(records.c.confidence.desc(), records.c.id).limit(limit))
        with self._guard(), engine.reading(self.url) as connection:
            rows = connection.execute(query).mappings().all()
        return [{**row, "input": input_array(row["input"])} for row in rows]

    def get(self, record_id: int) -> dict[str, Any]:
        with self._guard(), engine.reading(self.url) as connection:
            row = connection.execute(select(records).where(records.c.id == record_id)).mappings().first()
        if row is None:
            raise UnknownRecord(f"There is no field record {record_id} (never made, or deleted).")
        return {**row, "input": input_array(row["input"]), "top": json.loads(row["top"]),
                "strokes": json.loads(row["strokes"]) if row["strokes"] else None}

    def labelled(self, filters: Filters = Filters(), digits_only: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The labelled records: ids, inputs (N, 28, 28) float32, labels (10: not a digit) and the model's answers."""
        query = select(records.c.id, records.c.input, records.c.label, records.c.answer).where(
            records.c.label.is_not(None), *filters.clauses())
        if digits_only:
            query = query.where(records.c.label < NOT_A_DIGIT)
        with self._guard(), engine.reading(self.url) as connection:
            rows = connection.execute(query.order_by(records.c.id)).all()
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        inputs = (np.stack([input_array(row[1]) for row in rows]) if rows else np.zeros((0, 28, 28), np.float32))
        return (ids, inputs, np.array([row[2] for row in rows], dtype=np.int64),
                np.array([row[3] for row in rows], dtype=np.int64))

    def export(self, filters: Filters = Filters()) -> dict[str, np.ndarray]:
        """The labelled records as the npz of ``GET /api/field/export``: ``x`` (N, 28, 28) uint8 as the model
        saw them (white ink on black, as in Keras' MNIST), ``y`` (N,) with 10 for not a digit, ``ids``."""
        ids, inputs, labels, _ = self.labelled(filters)
        x = np.clip(np.rint(inputs * 255), 0, 255).astype(np.uint8)
        return {"x": x, "y": labels, "ids": ids}

    def weekly_samples(self, filters: Filters = Filters(), per_week: int = 200) -> dict[dt.date, np.ndarray]:
        """Up to ``per_week`` inputs (the newest) of each week (Monday, UTC) that has records, oldest week first."""
        days = select(records.c.created_day).where(*filters.clauses()).distinct()
        with self._guard(), engine.reading(self.url) as connection:
            weeks = sorted({_as_date(day) - dt.timedelta(days=_as_date(day).weekday())
                            for day in connection.execute(days).scalars()})
            samples = {}
            for monday in weeks:
                query = (select(records.c.input).where(records.c.created_day >= monday,
                                                       records.c.created_day < monday + dt.timedelta(days=7),
                                                       *filters.clauses())
                         .order_by(records.c.id.desc()).limit(per_week))
                samples[monday] = np.stack([input_array(data) for data in connection.execute(query).scalars()])
        return samples


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
