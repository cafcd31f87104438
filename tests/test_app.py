"""The app without a browser: pages and ids, settings, the model service, the callbacks' helpers."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import dash
import numpy as np
import pytest

from callbacks.evaluation import cell_samples, metrics_table
from callbacks.layers import layer_rows
from callbacks.predict import faithfulness_text, refusal_message, source_of_test_digit, status_message, uploaded_bytes
from dashapp.service import ModelService, OptionError
from dashapp.settings import Settings, SettingsError
from layouts import evaluation, explanations, ids, layers, predict
from models import DEFAULT_MODEL_PATH
from models.preprocess import DigitInputError, NoDigitFound
from models.report import report_path

ROOT = Path(__file__).resolve().parents[1]
SEVEN = "M70,60L210,60L120,240"


def component_ids(component) -> set[str]:
    found = set()
    if isinstance(getattr(component, "id", None), str):
        found.add(component.id)
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if isinstance(child, dash.development.base_component.Component):
            found |= component_ids(child)
    return found


@pytest.fixture(scope="module")
def service(dash_app) -> ModelService:
    return ModelService.of(dash_app.server)


def test_pages_are_registered_at_the_design_paths(dash_app):
    paths = {page["module"]: page["path"] for page in dash.page_registry.values()}
    assert paths == {"layouts.predict": "/", "layouts.layers": "/layers", "layouts.evaluation": "/evaluation",
                     "layouts.explanations": "/explanations", "layouts.field": "/field"}
    assert ids.NAV in component_ids(dash_app.layout)


@pytest.mark.parametrize(("page", "design_ids"), [
    (predict, {"canvas", "clear-button", "upload", "top3-chart", "gradcam-figure", "model-input", "layer-dropdown",
               "status", "method-dropdown"}),
    (layers, {"layers-table", "feature-maps"}),
    (evaluation, {"confusion-matrix", "misclassified-gallery", "metrics-table", "calibration-figure",
                  "report-download"}),
    (explanations, {"method-scoreboard", "sanity-figure"}),  # selected-model is in the shell, by its menu
])
def test_every_page_has_its_design_ids_and_the_session_stores(page, design_ids):
    found = component_ids(page.layout())
    assert design_ids | {"selected-layer", "current-digit"} <= found


def test_layouts_and_wsgi_import_without_tensorflow():
    check = "import dashapp.wsgi, sys; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", check], cwd=ROOT, check=True, timeout=120)


def test_dev_server_refuses_to_start_without_a_model(tmp_path):
    missing = tmp_path / "nowhere.keras"
    result = subprocess.run([sys.executable, "-m", "dashapp"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "DIGIT_INSPECTOR_MODEL": str(missing)})
    assert result.returncode == 1
    assert str(missing) in result.stderr and "python -m train" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_come_from_the_environment():
    assert Settings.from_env({}) == Settings()
    settings = Settings.from_env({"DIGIT_INSPECTOR_MODEL": "/m.keras", "DIGIT_INSPECTOR_MAX_BYTES": "1000",
                                  "DIGIT_INSPECTOR_MAX_PIXELS": "4000", "DIGIT_INSPECTOR_DEBUG": "1",
                                  "DIGIT_INSPECTOR_HOST": "0.0.0.0", "DIGIT_INSPECTOR_PORT": "9000",
                                  "DIGIT_INSPECTOR_TF_THREADS": "2",
                                  "DIGIT_INSPECTOR_FAITHFULNESS_PRECISION": "Float32"})
    assert settings == Settings(Path("/m.keras"), 1000, 4000, True, "0.0.0.0", 9000, 2,
                                faithfulness_precision="float32")
    assert Settings().debug is False and Settings().model_path == DEFAULT_MODEL_PATH
    for bad in ({"DIGIT_INSPECTOR_PORT": "eighty"}, {"DIGIT_INSPECTOR_MAX_BYTES": "-1"},
                {"DIGIT_INSPECTOR_FAITHFULNESS_PRECISION": "float16"}):
        with pytest.raises(SettingsError, match="DIGIT_INSPECTOR_"):
            Settings.from_env(bad)


def test_service_validates_options_against_the_model(service):
    assert service.options() == service.options(None, "", "")
    options = service.options("conv2", "layercam", "3")
    assert (options.layer, options.method, options.class_index) == ("conv2", "layercam", 3)
    for bad in ({"layer": "dense"}, {"method": "saliency"}, {"class_index": 10}, {"class_index": "x"}):
        with pytest.raises(OptionError):
            service.options(**bad)
    assert issubclass(OptionError, DigitInputError)  # the UI and the API answer both with the message
    default = service.recommended()[1] or "conv4"  # the scoreboard's layer, when it recommends a layer method
    assert service.layer("conv1") == "conv1" and service.layer("nonsense") == service.layer(None) == default


def test_service_reads_drawn_strokes(service):
    result = service.predict_strokes([SEVEN], service.options())
    assert result["top"][0]["digit"] == 7
    heatmap, image = np.array(result["explanation"]["heatmap"]), np.array(result["input"])
    assert heatmap[image > 0.5].mean() > heatmap[image == 0].mean()  # hot on the stroke, cold on the background
    with pytest.raises(NoDigitFound):
        service.predict_strokes([], service.options())


def test_missing_report_is_computed_once_and_written(tmp_path):
    model = tmp_path / "copy.keras"
    shutil.copy(DEFAULT_MODEL_PATH, model)
    service = ModelService(Settings(model_path=model))
    report = service.report()
    assert report_path(model).is_file()
    assert report["test_size"] == 10000 and np.array(report["confusion_matrix"]).sum() == 10000
    assert service.report() is report  # read once, kept while the file is unchanged


def test_an_empty_map_gives_way_to_the_nearest_layer_with_evidence(service):
    from models.preprocess import normalize_digit, rasterize_strokes

    seven = normalize_digit(rasterize_strokes([SEVEN]))  # the shipped model's Grad-CAM at conv3 finds nothing here
    options = service.options("conv3", "gradcam")
    assert service.explain(seven, options)["explanation"]["empty"]
    explanation = service.explain_nonempty(seven, options)["explanation"]
    assert not explanation["empty"] and np.array(explanation["heatmap"]).max() > 0
    assert (explanation["method"], explanation["layer"]) == ("gradcam", "conv4")  # the nearest, deeper first
    assert explanation["instead_of"] == {"method": "gradcam", "layer": "conv3"}
    text, colour = status_message({"top": [{"digit": 7, "probability": 1.0}], "explanation": explanation})
    assert "Grad-CAM found no evidence for digit 7 at layer conv3, so the map shown is Grad-CAM at layer conv4" in text
    assert colour == "warning"


def test_an_empty_pixel_level_map_gives_way_to_layercam_at_the_default_layer(service, monkeypatch):
    from models.preprocess import normalize_digit, rasterize_strokes

    seven = normalize_digit(rasterize_strokes([SEVEN]))
    explain = service.explain

    def occlusion_finds_nothing(image, options):
        result = explain(image, options)
        if options.method == "occlusion":
            result["explanation"]["empty"] = True
        return result

    monkeypatch.setattr(service, "explain", occlusion_finds_nothing)
    explanation = service.explain_nonempty(seven, service.options(None, "occlusion"))["explanation"]
    assert (explanation["method"], explanation["layer"]) == ("layercam", service.model.default_layer)
    assert explanation["instead_of"] == {"method": "occlusion", "layer": None}
    text, _ = status_message({"top": [{"digit": 7, "probability": 1.0}], "explanation": explanation})
    assert "Occlusion found no evidence for digit 7, so the map shown is Layer-CAM at layer" in text


def test_test_digits_open_by_index_and_a_bad_index_says_what_to_send(mnist_test):
    x, y = mnist_test
    source = source_of_test_digit("42")
    np.testing.assert_allclose(source["input"], x[42] / 255.0, atol=1e-4)
    assert source["name"] == f"MNIST test digit #42, labelled {y[42]}"
    for bad in ("10000", "-1", "seven"):
        with pytest.raises(DigitInputError, match="from 0 to 9999"):
            source_of_test_digit(bad)


def test_oversize_uploads_are_refused_with_the_api_sentence():
    assert refusal_message(20_000_000, 8 * 1024 * 1024) == ("The file is 20.0 MB, over the 8.4 MB limit: "
                                                            "send a smaller image.")


def test_uploads_are_decoded_from_data_urls():
    assert uploaded_bytes("data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()) == b"\x89PNG"
    with pytest.raises(DigitInputError, match="again"):
        uploaded_bytes("data:image/png;base64,@@@")


def test_status_says_what_was_read_and_why_a_map_is_empty():
    result = {"top": [{"digit": 7, "probability": 0.97}],
              "explanation": {"method": "gradcam", "layer": "conv1", "class": 7, "empty": False}}
    assert status_message(result) == ("Read as 7 (97% sure). Grad-CAM for digit 7 at layer conv1.", "success")
    result["explanation"].update(empty=True, faithfulness={"deletion_auc": 1.0, "insertion_auc": 1.0})
    text, colour = status_message(result)
    assert text.endswith("the map is empty.") and colour == "warning"
    assert faithfulness_text(result["explanation"]) == ""  # no scores for an empty map
    other = {"top": [{"digit": 8, "probability": 0.74}], "novelty": {"is_digit": False},
             "explanation": {"method": "gradcam", "layer": "conv1", "class": 8, "empty": False}}
    assert status_message(other) == ("This does not look like a digit; the closest is 8 (74%). The map shows what "
                                     "Grad-CAM at layer conv1 sees of an 8 in it.", "warning")


def test_layer_rows_read_like_the_network(service):
    rows = layer_rows(service.model.conv_layers())
    assert [row["id"] for row in rows] == ["conv1", "conv2", "conv3", "conv4"]
    assert rows[3]["output_shape"] == "14 × 14 × 64" and rows[0]["receptive_field"] == "3 × 3 px"
    assert rows[3]["params"] == "18,432"  # 3 x 3 x 32 x 64 weights, no bias (BatchNorm follows)


def test_metrics_table_and_gallery_samples_come_from_the_report(service):
    report = service.report()
    head, body, foot = metrics_table(report)
    assert len(body.children) == 10
    assert f"{report['test_accuracy']:.2%}" in str(foot) and "ECE" in str(foot)
    mistake = report["misclassified"][0]
    by_confidence = cell_samples(report, mistake["true"], mistake["predicted"], "confidence")
    by_index = cell_samples(report, mistake["true"], mistake["predicted"], "index")
    assert {m["index"] for m in by_confidence} == {m["index"] for m in by_index}
    assert [m["confidence"] for m in by_confidence] == sorted((m["confidence"] for m in by_index), reverse=True)
