"""The JSON API with Flask's test client: every route, good images, and bad input answered in words."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from bench.loadtools import server_timing
from callbacks import SERVICE_EXTENSION
from dashapp.service import ModelService
from dashapp.settings import Settings
from models import DEFAULT_MODEL_PATH, METHOD_NAMES
from models.methods import needs_layer

LIMIT = Settings().max_upload_bytes


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def declared_size_png(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""
    data = bytearray(encode(Image.new("L", (1, 1))))
    ihdr = bytearray(data[12:29])  # chunk type + 13 data bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


@pytest.fixture(scope="module")
def client(dash_app):
    return dash_app.server.test_client()


@pytest.fixture(scope="module")
def seven(mnist_test) -> bytes:
    """MNIST test digit 0 (a 7) as dark ink on white paper, blown up to 140x140."""
    x, y = mnist_test
    assert y[0] == 7
    return encode(Image.fromarray(255 - x[0]).resize((140, 140), Image.BICUBIC))


def multipart(data: bytes, name: str = "digit.png", **fields) -> dict:
    return {"data": {"image": (io.BytesIO(data), name), **fields}, "content_type": "multipart/form-data"}


def assert_prediction(body: dict, digit: int, layer: str = "conv4", method: str = "gradcam") -> None:
    assert body["top"][0]["digit"] == digit
    probabilities = [t["probability"] for t in body["top"]]
    assert len(probabilities) == 3 and probabilities == sorted(probabilities, reverse=True)
    image = np.array(body["input"])
    assert image.shape == (28, 28) and 0.0 <= image.min() and image.max() <= 1.0
    explanation = body["explanation"]
    assert (explanation["method"], explanation["layer"]) == (method, layer)
    heatmap = np.array(explanation["heatmap"])
    assert heatmap.shape == (28, 28) and not np.isnan(heatmap).any()
    assert set(explanation["faithfulness"]) == {"deletion_auc", "insertion_auc"}


def test_health_is_503_until_the_model_is_loaded(dash_app, monkeypatch):
    service = ModelService(Settings())
    monkeypatch.setitem(dash_app.server.extensions, SERVICE_EXTENSION, service)
    client = dash_app.server.test_client()
    response = client.get("/api/health")
    assert response.status_code == 503 and response.json == {"status": "loading"}
    service.load()
    response = client.get("/api/health")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_missing_model_answers_503_naming_the_file_and_the_fix(dash_app, monkeypatch, tmp_path, seven):
    missing = tmp_path / "nowhere.keras"
    monkeypatch.setitem(dash_app.server.extensions, SERVICE_EXTENSION, ModelService(Settings(model_path=missing)))
    client = dash_app.server.test_client()
    for response in (client.get("/api/model"), client.post("/api/predict", **multipart(seven))):
        assert response.status_code == 503
        assert str(missing) in response.json["error"] and "python -m train" in response.json["error"]
    assert client.get("/api/health").status_code == 503


def test_model_lists_conv_layers_and_methods(client):
    response = client.get("/api/model")
    assert response.status_code == 200
    body = response.json
    assert [layer["name"] for layer in body["conv_layers"]] == ["conv1", "conv2", "conv3", "conv4"]
    for layer in body["conv_layers"]:
        assert len(layer["output_shape"]) == 3 and layer["params"] > 0
    assert body["default_layer"] == "conv4"
    assert body["methods"] == list(METHOD_NAMES)
    assert body["name"] and body["test_accuracy"] > 0.98


def test_predict_reads_a_multipart_upload(client, seven):
    response = client.post("/api/predict", **multipart(seven))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert_prediction(response.json, 7)
    assert response.json["explanation"]["class"] == 7  # defaults to the top-1 digit


def test_predict_says_where_its_time_went(client, seven):
    """Server-Timing splits the answer's time into its steps (browsers' network panels and make bench read it)."""
    response = client.post("/api/predict", data=seven, content_type="image/png")
    spans = server_timing(response.headers["Server-Timing"])
    assert list(spans) == ["decode", "normalise", "model", "json"]
    assert all(ms >= 0 for ms in spans.values()) and spans["model"] > 0
    assert list(response.json) == ["top", "input", "explanation", "novelty", "text", "digits"]  # DESIGN.md's order


def test_predict_reads_a_raw_body_with_query_options(client, seven):
    response = client.post("/api/predict?layer=conv2&method=layercam&class=1", data=seven, content_type="image/png")
    assert response.status_code == 200
    assert_prediction(response.json, 7, layer="conv2", method="layercam")
    assert response.json["explanation"]["class"] == 1


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_every_method_answers_through_form_fields(client, seven, method):
    response = client.post("/api/predict", **multipart(seven, layer="conv3", method=method))
    assert response.status_code == 200
    assert_prediction(response.json, 7, layer="conv3" if needs_layer(method) else None, method=method)


def odd_but_valid_images(seven: bytes) -> dict[str, bytes]:
    digit = Image.open(io.BytesIO(seven)).convert("L")
    wide = np.asarray(digit, np.uint16) * 257
    palette = digit.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    palette.info["transparency"] = 0
    frames = [digit, Image.new("L", digit.size, 255)]
    return {
        "16-bit": encode(Image.fromarray(wide)),
        "CMYK": encode(digit.convert("CMYK"), "JPEG"),
        "palette + transparency": encode(palette, transparency=0),
        "animated GIF (first frame)": encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
    }


def test_odd_but_valid_images_are_read(client, seven):
    for name, data in odd_but_valid_images(seven).items():
        response = client.post("/api/predict", **multipart(data))
        assert response.status_code == 200, name
        assert response.json["top"][0]["digit"] == 7, name


@pytest.mark.parametrize(("request_kwargs", "status", "words"), [
    ({"data": b"", "content_type": "image/png"}, 400, "empty"),
    ({"data": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "content_type": "image/png"}, 400, "not an image"),
    ({"data": b"hello", "content_type": "text/plain"}, 415, "multipart/form-data"),
    ({"data": {"file": (io.BytesIO(b"x"), "x.png")}, "content_type": "multipart/form-data"}, 400, "'image'"),
    ({"data": {"image": "not a file"}, "content_type": "multipart/form-data"}, 400, "'image'"),
    (multipart(b"just some text, renamed", name="digit.png"), 400, "not an image"),
    (multipart(b'<svg xmlns="http://www.w3.org/2000/svg"><text>7</text></svg>', name="seven.svg"), 400,
     "not an image"),
    (multipart(declared_size_png(40000, 40000)), 400, "pixel"),
    (multipart(encode(Image.new("L", (50, 50), 255))), 400, "No digit found"),
    ({"data": b"\0" * (LIMIT + 1), "content_type": "image/png"}, 413, "limit"),
    (multipart(b"\0" * (LIMIT + 1)), 413, "limit"),
    (multipart(b"\0" * (3 * LIMIT)), 413, "limit"),
])
def test_bad_input_gets_a_4xx_that_says_what_to_send(client, request_kwargs, status, words):
    response = client.post("/api/predict", **request_kwargs)
    assert response.status_code == status
    assert words in response.json["error"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_truncated_png_is_refused_in_words(client, seven):
    response = client.post("/api/predict", data=seven[: len(seven) // 2], content_type="image/png")
    assert response.status_code == 400 and "truncated" in response.json["error"]


@pytest.mark.parametrize(("query", "words"), [
    ("layer=dense", "conv1, conv2, conv3, conv4"),
    ("method=saliency", "gradcam"),
    ("class=12", "0 to 9"),
    ("class=seven", "0 to 9"),
])
def test_unknown_options_are_refused_with_the_allowed_values(client, seven, query, words):
    response = client.post(f"/api/predict?{query}", data=seven, content_type="image/png")
    assert response.status_code == 400 and words in response.json["error"]


def test_wrong_method_and_unknown_route_answer_json(client):
    response = client.get("/api/predict")
    assert response.status_code == 405 and "POST" in response.json["error"]
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and "/api/predict" in response.json["error"]


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/model"])
def test_responses_carry_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("value", [0, 255])
def test_one_pixel_image_says_no_digit_found(client, value):
    response = client.post("/api/predict", **multipart(encode(Image.new("L", (1, 1), value))))
    assert response.status_code == 400 and "No digit found" in response.json["error"]


def test_byte_and_pixel_limits_are_settings(seven):
    from dashapp.service import ExplainOptions, ModelService
    from models.preprocess import DigitInputError

    options = ExplainOptions("conv4", "gradcam", None)
    with pytest.raises(DigitInputError, match="limit"):
        ModelService(Settings(max_upload_bytes=len(seven) - 1)).predict_image(seven, options)
    with pytest.raises(DigitInputError, match="pixel limit"):
        ModelService(Settings(max_image_pixels=100)).predict_image(seven, options)


def test_models_lists_every_model_file_by_name(client):
    response = client.get("/api/models")
    assert response.status_code == 200
    models = {entry["name"]: entry for entry in response.json["models"]}
    assert {"digit_cnn", "seed_cnn"} <= set(models)
    assert models["digit_cnn"]["default"] is True and models["seed_cnn"]["default"] is False
    assert models["seed_cnn"]["file"] == "seed_cnn.h5" and models["seed_cnn"]["test_accuracy"] > 0.98
    assert all(set(entry) == {"name", "file", "test_accuracy", "default"} for entry in models.values())


def test_model_and_predict_take_a_model_name(client, seven):
    body = client.get("/api/model?model=seed_cnn").json
    assert body["name"] == "seed_cnn" and body["test_accuracy"] > 0.98
    assert [layer["name"] for layer in body["conv_layers"]] == ["conv2d", "conv2d_1"]
    assert body["default_layer"] == "conv2d_1" and body["methods"] == list(METHOD_NAMES)
    response = client.post("/api/predict", **multipart(seven, model="seed_cnn", method="scorecam"))
    assert response.status_code == 200
    assert_prediction(response.json, 7, layer="conv2d_1", method="scorecam")
    response = client.post("/api/predict?model=seed_cnn&layer=conv2d", data=seven, content_type="image/png")
    assert_prediction(response.json, 7, layer="conv2d")
    assert client.get("/api/model").json["name"] == "digit_cnn"  # no model field: the default one


@pytest.mark.parametrize("value", ["lenet", "models/seed_cnn.h5", "../models/digit_cnn"])
def test_unknown_model_names_get_a_400_listing_the_names(client, seven, value):
    for response in (client.get("/api/model", query_string={"model": value}),
                     client.post("/api/predict", **multipart(seven, model=value))):
        assert response.status_code == 400
        assert "Unknown model" in response.json["error"] and "digit_cnn, seed_cnn" in response.json["error"]


def test_model_uploads_are_off_by_default(client, model_zoo):
    response = client.post("/api/models", data={"model": (model_zoo["seed_keras"].open("rb"), "mine.keras")},
                           content_type="multipart/form-data")
    assert response.status_code == 403 and "DIGIT_INSPECTOR_MODEL_UPLOADS=1" in response.json["error"]


def test_an_uploaded_model_is_checked_saved_under_a_free_name_and_offered(dash_app, monkeypatch, tmp_path, model_zoo,
                                                                          refused_models, seven):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    settings = Settings(model_path=DEFAULT_MODEL_PATH, models_dir=models_dir, model_uploads=True,
                        max_model_bytes=5_000_000)
    monkeypatch.setitem(dash_app.server.extensions, SERVICE_EXTENSION, ModelService(settings))
    client = dash_app.server.test_client()

    def upload(path, name):
        return client.post("/api/models", data={"model": (path.open("rb"), name)}, content_type="multipart/form-data")

    first = upload(model_zoo["conv_bn_relu_blocks"], "my net.keras")
    second = upload(model_zoo["seed_keras"], "my net.keras")
    assert (first.status_code, first.json["name"]) == (201, "my_net")
    assert (second.status_code, second.json.get("name")) == (201, "my_net_2"), second.json  # never replaces one
    assert {"my_net", "my_net_2", "digit_cnn"} <= {m["name"] for m in client.get("/api/models").json["models"]}
    response = client.post("/api/predict", **multipart(seven, model="my_net_2"))
    assert response.status_code == 200 and response.json["explanation"]["layer"] == "conv2d_1"
    for path, name, status, words in ((refused_models["lambda"], "lambda.keras", 400, "Lambda layer"),
                                      (refused_models["random_bytes"], "junk.keras", 400, "not a model Keras 3"),
                                      (model_zoo["seed_h5"], "seed.h5", 400, "not a .keras file"),
                                      (models_dir / "my_net.keras", "big.keras", 413, "limit")):
        if status == 413:
            path = tmp_path / "big.keras"
            path.write_bytes(b"\0" * 5_100_000)
        response = upload(path, name)
        assert response.status_code == status and words in response.json["error"], name
        assert str(tmp_path) not in response.json["error"] or status == 413
    assert sorted(p.name for p in models_dir.glob("*.keras")) == ["my_net.keras", "my_net_2.keras"]
    # Beside them, only the not-a-digit fit of a model that answered (and its lock): kept once, not per request.
    assert {p.name for p in models_dir.iterdir() if p.suffix != ".keras"} <= {
        f"{name}.novelty.{kind}" for name in ("my_net", "my_net_2") for kind in ("npz", "lock")}
