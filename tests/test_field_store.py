"""The field data's store on SQLite and on PostgreSQL: what is kept, counted, exported and deleted."""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pytest

from dashapp.field import FieldInputError, FieldUnavailable, Filters, UnknownRecord, parse_label
from dashapp.field.engine import current_revision, head_revision, migrate
from dashapp.field.records import new_record, thumbnail_png
from dashapp.field.store import FieldStore


def prediction(digit: int, probability: float = 0.9, is_digit: bool | None = None) -> dict:
    image = np.zeros((28, 28), np.float32)
    image[4:24, 12 + digit % 3:15 + digit % 3] = 1.0
    others = [d for d in range(10) if d != digit][:2]
    result = {"top": [{"digit": digit, "probability": probability}, {"digit": others[0], "probability": 0.05},
                      {"digit": others[1], "probability": 0.01}], "input": image.tolist()}
    if is_digit is not None:
        result["novelty"] = {"is_digit": is_digit, "score": 3.0 if is_digit else 9.0, "threshold": 5.0,
                             "detector": "energy"}
    return result


def keep(store: FieldStore, digit: int, label: int | None = None, model: str = "digit_cnn", **kwargs) -> int:
    result = prediction(digit, **kwargs)
    return store.add(new_record(result, model, "ab" * 32, "api", thumbnail_png(np.asarray(result["input"])),
                                ["M 1 1 L 5 5"], label))


def test_labels_are_digits_or_not_a_digit():
    assert [parse_label(v) for v in ("0", 9, " 7 ", "not a digit", "Not-a-digit")] == [0, 9, 7, 10, 10]
    for hostile in ("10", "-1", "seven", "", "1; DROP TABLE field_records", None, True, "٣"):
        with pytest.raises(FieldInputError, match="label must be a digit from 0 to 9"):
            parse_label(hostile)


def test_migrations_reach_the_head_once_and_again(field_url):
    assert current_revision(field_url) == head_revision()
    assert migrate(field_url) == head_revision()  # a second run changes nothing


def test_records_labels_and_the_confusion_matrix(field_url):
    store = FieldStore(field_url)
    right = keep(store, 7, label=7)
    wrong = keep(store, 1, label=7)
    unlabeled = keep(store, 3)
    flagged = keep(store, 4, is_digit=False, label=10)  # the novelty detector's "not a digit" is the answer
    keep(store, 2, label=2, model="seed_cnn")
    summary = store.summary(Filters(model="digit_cnn"))
    assert summary["records"] == 4 and summary["labeled"] == 3
    assert summary["accuracy"] == pytest.approx(2 / 3)
    matrix = np.array(summary["confusion_matrix"])
    assert matrix.shape == (11, 11) and matrix[7, 7] == 1 and matrix[7, 1] == 1 and matrix[10, 10] == 1
    assert summary["labels"][10] == "not a digit"
    assert store.summary()["records"] == 5

    store.set_label(unlabeled, 8)
    assert store.summary(Filters(model="digit_cnn"))["confusion_matrix"][8][3] == 1
    record = store.get(wrong)
    assert record["label"] == 7 and record["top"][0]["digit"] == 1 and record["strokes"] == ["M 1 1 L 5 5"]
    assert record["input"].shape == (28, 28) and record["model_sha256"] == "ab" * 32
    assert [r["id"] for r in store.cell(7, 1, Filters(model="digit_cnn"))] == [wrong]
    assert store.get(flagged)["novelty_is_digit"] is False
    assert store.get(right)["thumbnail"].startswith(b"\x89PNG")

    today = dt.datetime.now(dt.UTC).date()
    rows = store.activity()
    assert {(r["day"], r["model"], r["records"], r["labeled"]) for r in rows} == {
        (today.isoformat(), "digit_cnn", 4, 4), (today.isoformat(), "seed_cnn", 1, 1)}
    assert store.summary(Filters(since=today + dt.timedelta(days=1)))["records"] == 0
    assert store.model_names() == ["digit_cnn", "seed_cnn"]


def test_export_holds_the_labelled_digits_as_the_model_saw_them(field_url):
    store = FieldStore(field_url)
    ids = [keep(store, 7, label=7), keep(store, 5, label=10)]
    keep(store, 3)
    data = store.export()
    assert data["x"].dtype == np.uint8 and data["x"].shape == (2, 28, 28)
    assert data["y"].tolist() == [7, 10] and data["ids"].tolist() == ids
    expected = np.rint(np.asarray(prediction(7)["input"]) * 255).astype(np.uint8)
    assert np.array_equal(data["x"][0], expected)


def test_delete_one_all_and_by_retention(field_url):
    store = FieldStore(field_url)
    first, second = keep(store, 1, label=1), keep(store, 2)
    store.delete(first)
    with pytest.raises(UnknownRecord):
        store.delete(first)
    with pytest.raises(UnknownRecord):
        store.set_label(first, 3)
    with pytest.raises(UnknownRecord):
        store.get(first)
    assert store.purge(30) == 0  # nothing is that old
    assert store.delete_all() == 1 and store.summary()["records"] == 0
    assert second


def test_histograms_and_weekly_samples_are_counted_by_the_database(field_url):
    store = FieldStore(field_url)
    for probability in (0.12, 0.55, 0.97, 0.999, 1.0):
        keep(store, 3, probability=probability)
    counts = store.histogram("confidence", 10, 0.0, 1.0)
    assert counts.tolist() == [0, 1, 0, 0, 0, 1, 0, 0, 0, 3]
    samples = store.weekly_samples(per_week=3)
    assert len(samples) == 1 and next(iter(samples.values())).shape == (3, 28, 28)


def test_hostile_text_is_kept_as_text_never_run(field_url):
    store = FieldStore(field_url)
    name = "x'); DROP TABLE field_records; --"
    record = keep(store, 4, label=4, model=name)
    assert store.get(record)["model"] == name
    assert store.summary(Filters(model=name))["records"] == 1


def test_concurrent_writers_all_land_once(field_url):
    """8 threads, each with its own connection: every acknowledged record is there once."""
    store = FieldStore(field_url)
    made: list[int] = []
    errors: list[Exception] = []

    def send() -> None:
        for i in range(15):
            try:
                made.append(keep(store, i % 10, label=i % 10))
            except Exception as exc:  # noqa: BLE001  (collected and asserted below)
                errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(made) == len(set(made)) == 120
    assert sorted(store.export()["ids"].tolist()) == sorted(made)


def test_an_unreachable_database_is_one_sentence_and_recovers(tmp_path):
    folder = tmp_path / "missing"
    url = f"sqlite:///{folder / 'field.db'}"
    store = FieldStore(url)
    with pytest.raises(FieldUnavailable, match="cannot be reached or written"):
        keep(store, 1)
    migrate(url)  # the folder and the database come back
    assert keep(store, 1) > 0


def test_a_database_without_tables_says_how_to_migrate(tmp_path):
    store = FieldStore(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(FieldUnavailable, match="python -m dashapp.field migrate"):
        store.summary()
