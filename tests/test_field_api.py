"""The field data's API with Flask's test client, on SQLite and PostgreSQL: feedback, summary, export,
delete, the admin token, a database that is down, hostile fields."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from dashapp.field import FIELD_EXTENSION, FieldService

TOKEN = "s3cret-token"


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def seven(mnist_test) -> bytes:
    x, y = mnist_test
    assert y[0] == 7
    return png(x[0])


@pytest.fixture
def use_field(dash_app):
    """Give the session's app a field service on ``url`` in ``mode`` (restored after the test)."""
    server = dash_app.server
    kept = server.extensions[FIELD_EXTENSION]

    def install(url: str, mode: str = "feedback", **settings) -> FieldService:
        field = FieldService(replace(kept.settings, database_url=url, field_mode=mode, **settings))
        field.init_app(server)
        return field

    yield install
    kept.init_app(server)


@pytest.fixture
def client(dash_app):
    return dash_app.server.test_client()


def send_feedback(client, image: bytes, label: str, **fields):
    return client.post("/api/feedback", data={"image": (io.BytesIO(image), "d.png"), "label": label, **fields},
                       content_type="multipart/form-data")


def test_feedback_mode_keeps_nothing_until_a_person_answers(client, use_field, field_url, seven):
    field = use_field(field_url)
    answer = client.post("/api/predict", data=seven, content_type="image/png")
    assert answer.status_code == 200 and "id" not in answer.json
    assert field.store.summary()["records"] == 0

    sent = send_feedback(client, seven, "1")
    assert sent.status_code == 201
    record_id = sent.json["id"]
    summary = client.get("/api/field/summary").json
    assert summary["records"] == 1 and summary["labeled"] == 1 and summary["accuracy"] == 0.0
    assert summary["confusion_matrix"][1][7] == 1  # the person said 1, the model read 7
    assert client.post("/api/feedback", json={"id": record_id, "label": "7"}).status_code == 201
    assert client.get("/api/field/summary?model=digit_cnn").json["accuracy"] == 1.0
    record = field.store.get(record_id)
    assert record["source"] == "api" and record["model"] == "digit_cnn" and len(record["model_sha256"]) == 64
    assert record["thumbnail"].startswith(b"\x89PNG")


def test_all_mode_records_every_prediction_and_its_id_takes_a_label(client, use_field, field_url, seven):
    field = use_field(field_url, "all")
    answer = client.post("/api/predict", data=seven, content_type="image/png")
    assert answer.status_code == 200 and isinstance(answer.json["id"], int)
    assert "record;dur=" in answer.headers["Server-Timing"]
    assert field.store.summary()["records"] == 1 and field.store.summary()["labeled"] == 0
    sent = client.post("/api/feedback", data={"id": str(answer.json["id"]), "label": "not a digit"})
    assert sent.status_code == 201 and sent.json == {"id": answer.json["id"]}
    assert field.store.summary()["confusion_matrix"][10][7] == 1


def test_export_and_delete(client, use_field, field_url, seven, mnist_test):
    use_field(field_url)
    ids = [send_feedback(client, seven, "7").json["id"], send_feedback(client, png(mnist_test[0][1]), "2").json["id"]]
    exported = client.get("/api/field/export?format=npz")
    assert exported.status_code == 200
    data = np.load(io.BytesIO(exported.data))
    assert data["x"].shape == (2, 28, 28) and data["x"].dtype == np.uint8
    assert data["y"].tolist() == [7, 2] and data["ids"].tolist() == ids
    assert client.get("/api/field/export?format=csv").status_code == 400

    assert client.delete(f"/api/field/records/{ids[0]}").json == {"deleted": ids[0]}
    gone = client.delete(f"/api/field/records/{ids[0]}")
    assert gone.status_code == 404 and "no field record" in gone.json["error"]
    assert client.delete("/api/field/records").json == {"deleted": 1}
    assert client.get("/api/field/summary").json["records"] == 0


@pytest.mark.parametrize("fields, status, words", [
    ({"label": "11"}, 400, "label must be a digit from 0 to 9"),
    ({"label": "-1"}, 400, "label must be a digit"),
    ({}, 400, "none was sent"),
    ({"label": "3' OR '1'='1"}, 400, "label must be a digit"),
    ({"label": "3", "id": "1; DROP TABLE field_records"}, 400, "id must be the whole number"),
    ({"label": "3", "id": "99999999"}, 404, "no field record 99999999"),
    ({"label": "3", "id": "1" * 40}, 400, "id must be the whole number"),
    ({"label": "3"}, 400, "Send either id"),
])
def test_bad_feedback_gets_a_sentence(client, use_field, tmp_path, fields, status, words):
    use_field(f"sqlite:///{tmp_path / 'f.db'}")
    from dashapp.field.engine import migrate

    migrate(f"sqlite:///{tmp_path / 'f.db'}")
    answer = client.post("/api/feedback", data=fields)
    assert answer.status_code == status and words in answer.json["error"]


def test_hostile_model_names_and_days_get_sentences(client, use_field, field_url, seven):
    use_field(field_url)
    hostile = "digit_cnn'; DROP TABLE field_records; --"
    answer = send_feedback(client, seven, "7", model=hostile)
    assert answer.status_code == 400 and "Unknown model" in answer.json["error"]
    assert client.get("/api/field/summary", query_string={"model": hostile}).json["records"] == 0
    bad_day = client.get("/api/field/summary?since=yesterday")
    assert bad_day.status_code == 400 and "YYYY-MM-DD" in bad_day.json["error"]
    assert client.get("/api/field/summary", query_string={"model": "x" * 500}).status_code == 400
    assert client.delete("/api/field/records/abc").status_code == 400
    huge = client.post("/api/feedback", data=b"x" * (40 * 1024 * 1024), content_type="application/json")
    assert huge.status_code == 413 and "error" in huge.json
    not_object = client.post("/api/feedback", json=[1, 2])
    assert not_object.status_code == 400 and "JSON body must be an object" in not_object.json["error"]


def test_off_mode_keeps_nothing(client, use_field, field_url, seven):
    field = use_field(field_url, "off")
    answer = send_feedback(client, seven, "7")
    assert answer.status_code == 403 and "DIGIT_INSPECTOR_FIELD=off" in answer.json["error"]
    assert client.post("/api/predict", data=seven, content_type="image/png").status_code == 200
    assert field.store.summary()["records"] == 0


def test_deployed_field_data_needs_the_admin_token(client, use_field, tmp_path, seven):
    url = f"sqlite:///{tmp_path / 'f.db'}"
    from dashapp.field.engine import migrate

    migrate(url)
    use_field(url, admin_required=True, admin_token="")
    routes = [("get", "/api/field/summary"), ("get", "/api/field/export"), ("delete", "/api/field/records/1"),
              ("delete", "/api/field/records")]
    for method, route in routes:
        refused = getattr(client, method)(route)
        assert refused.status_code == 403 and "set DIGIT_INSPECTOR_ADMIN_TOKEN" in refused.json["error"]
    assert send_feedback(client, seven, "7").status_code == 201  # feedback needs no token

    use_field(url, admin_required=True, admin_token=TOKEN)
    for method, route in routes:
        missing = getattr(client, method)(route)
        assert missing.status_code == 401 and "Authorization: Bearer" in missing.json["error"]
        wrong = getattr(client, method)(route, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "wrong" in wrong.json["error"]
    allowed = client.get("/api/field/summary", headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200 and allowed.json["records"] == 1


def test_a_database_that_is_down_costs_feedback_not_predictions(client, use_field, tmp_path, seven):
    folder = tmp_path / "gone"
    url = f"sqlite:///{folder / 'field.db'}"  # its folder does not exist: SQLite cannot open or write it
    use_field(url, "all")
    answer = client.post("/api/predict", data=seven, content_type="image/png")
    assert answer.status_code == 200 and answer.json["top"][0]["digit"] == 7 and "id" not in answer.json
    refused = send_feedback(client, seven, "7")
    assert refused.status_code == 503 and "cannot be reached or written" in refused.json["error"]
    assert client.get("/api/field/summary").status_code == 503

    from dashapp.field.engine import migrate

    migrate(url)  # the database is back: the same service recovers by itself
    assert send_feedback(client, seven, "7").status_code == 201
    assert isinstance(client.post("/api/predict", data=seven, content_type="image/png").json["id"], int)
