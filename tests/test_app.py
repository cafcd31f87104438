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
from callbacks.predict import status_message, strokes_after_relayout, uploaded_bytes
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
                     "layouts.explanations": "/explanations"}
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
                                  "DIGIT_INSPECTOR_TF_THREADS": "2"})
    assert settings == Settings(Path("/m.keras"), 1000, 4000, True, "0.0.0.0", 9000, 2)
    assert Settings().debug is False and Settings().model_path == DEFAULT_MODEL_PATH
    for bad in ({"DIGIT_INSPECTOR_PORT": "eighty"}, {"DIGIT_INSPECTOR_MAX_BYTES": "-1"}):
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


def test_relayout_events_update_the_strokes():
    assert strokes_after_relayout([], None) is None
    assert strokes_after_relayout(["M1,1L2,2"], {"autosize": True}) is None
    shapes = [{"type": "path", "path": "M1,1L2,2"}, {"type": "path", "path": SEVEN}, {"type": "line"}]
    assert strokes_after_relayout(["M1,1L2,2"], {"shapes": shapes}) == ["M1,1L2,2", SEVEN]
    assert strokes_after_relayout(["a", "b"], {"shapes[1].path": SEVEN}) == ["a", SEVEN]
    assert strokes_after_relayout(["a"], {"shapes[5].path": SEVEN}) is None


def test_uploads_are_decoded_from_data_urls():
    assert uploaded_bytes("data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()) == b"\x89PNG"
    with pytest.raises(DigitInputError, match="again"):
        uploaded_bytes("data:image/png;base64,@@@")


def test_status_says_what_was_read_and_why_a_map_is_empty():
    result = {"top": [{"digit": 7, "probability": 0.97}],
              "explanation": {"method": "gradcam", "layer": "conv1", "class": 7, "empty": False}}
    assert status_message(result) == ("Read as 7 (97% sure). Grad-CAM for digit 7 at layer conv1.", "success")
    result["explanation"].update(empty=True, note="The map is all zero. Try layercam.")
    text, colour = status_message(result)
    assert text.endswith("Try layercam.") and colour == "warning"


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
