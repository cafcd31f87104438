"""What a stroke costs on the wire: the predict callback's answer, as the browser receives it.

Sizes, never times (``make bench`` prints those): the request is the one ``bench.callback_bench``
replays, built from the app's callback map, and goes through Dash in process.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.callback_bench import DRAWINGS, UPDATE_PATH, callback_for, stroke_bodies, update_body
from layouts import ids

ANSWER_LIMIT = 10_000  # bytes: a stroke's whole answer, every figure and store included


@pytest.fixture(scope="module")
def app_client(dash_app):
    client = dash_app.server.test_client()
    return client, client.get("/_dash-dependencies").get_json()


@pytest.fixture(scope="module")
def stroke_answers(app_client):
    client, dependencies = app_client
    layer = client.get("/api/model").get_json()["default_layer"]
    answers = []
    for body in stroke_bodies(dependencies, layer):
        response = client.post(UPDATE_PATH, json=body)
        assert response.status_code == 200
        answers.append(response)
    return answers


def test_a_strokes_answer_stays_under_10_kb(stroke_answers):
    for drawing, response in zip(DRAWINGS, stroke_answers, strict=True):
        answer = response.get_json()["response"]
        assert answer[ids.STATUS]["children"].startswith("Read as"), drawing
        assert len(response.get_data()) <= ANSWER_LIMIT, drawing


def test_the_digit_travels_once_and_the_grids_as_bytes(stroke_answers):
    answer = stroke_answers[0].get_json()["response"]
    digit = np.asarray(answer[ids.CURRENT_DIGIT]["data"])
    assert digit.shape == (28, 28) and 0 <= digit.min() and digit.max() <= 1
    for picture in (ids.GRADCAM_FIGURE, ids.MODEL_INPUT):  # 28x28 PNGs and one byte a cell, not lists of floats
        assert "data:image/png;base64," in json.dumps(answer[picture]["children"])
    assert "input" not in answer[ids.PREDICTION]["data"]  # only what the answer was asked with


def test_the_download_is_the_answer_on_show(app_client, stroke_answers):
    """The download recomputes the prediction from the stored digit and options: the same answer."""
    client, dependencies = app_client
    answer = stroke_answers[0].get_json()["response"]
    download = callback_for(dependencies, f"{ids.DOWNLOAD_JSON}.data")
    body = update_body(download, {
        f"{ids.DOWNLOAD_BUTTON}.n_clicks": 1, f"{ids.CURRENT_DIGIT}.data": answer[ids.CURRENT_DIGIT]["data"],
        f"{ids.PREDICTION}.data": answer[ids.PREDICTION]["data"],
    }, [f"{ids.DOWNLOAD_BUTTON}.n_clicks"])
    response = client.post(UPDATE_PATH, json=body)
    assert response.status_code == 200
    prediction = json.loads(response.get_json()["response"][ids.DOWNLOAD_JSON]["data"]["content"])
    shown = answer[ids.TOP3_CHART]["figure"]["data"][0]
    assert [t["digit"] for t in prediction["top"]] == shown["customdata"]
    assert [t["probability"] for t in prediction["top"]] == shown["y"]
    np.testing.assert_allclose(prediction["input"], answer[ids.CURRENT_DIGIT]["data"], atol=1e-6)
