"""Several models in one process: settings, lazy LRU loading, reports computed once, in the right folder."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from dashapp.service import ModelService, OptionError
from dashapp.settings import Settings, SettingsError
from models import DEFAULT_MODEL_PATH, MODELS_DIR

SEED = MODELS_DIR / "seed_cnn.h5"


def test_models_settings_name_a_folder_and_a_default(tmp_path):
    assert Settings.from_env({}).models_dir == MODELS_DIR and Settings.from_env({}).model_path == DEFAULT_MODEL_PATH
    assert Settings.from_env({"DIGIT_INSPECTOR_MODEL": "seed_cnn"}).model_path == SEED
    assert Settings.from_env({"DIGIT_INSPECTOR_MODEL": str(SEED)}).model_path == SEED  # a path, as before
    with pytest.raises(SettingsError, match="digit_cnn, seed_cnn"):
        Settings.from_env({"DIGIT_INSPECTOR_MODEL": "lenet"})
    shutil.copy(SEED, tmp_path / "only.h5")
    settings = Settings.from_env({"DIGIT_INSPECTOR_MODELS": str(tmp_path), "DIGIT_INSPECTOR_MAX_LOADED": "2",
                                  "DIGIT_INSPECTOR_MODEL_UPLOADS": "1", "DIGIT_INSPECTOR_CACHE": "/c"})
    assert settings.model_path == tmp_path / "only.h5"  # no digit_cnn there: its first model
    assert (settings.max_loaded, settings.model_uploads, settings.cache_dir) == (2, True, Path("/c"))
    assert Settings().model_uploads is False and Settings().max_loaded == 4


def zoo_folder(tmp_path: Path, model_zoo: dict[str, Path], names: list[str]) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    for name in names:
        shutil.copy(model_zoo[name], folder / model_zoo[name].name)
    return folder


def test_models_load_lazily_and_the_least_recently_used_is_dropped(tmp_path, model_zoo):
    names = ["seed_keras", "functional_fused", "conv_bn_relu_blocks", "nested_sequential"]
    folder = zoo_folder(tmp_path, model_zoo, names)
    service = ModelService(Settings(model_path=folder / "seed_keras.keras", models_dir=folder, max_loaded=3))
    assert [entry.name for entry in service.models()] == sorted(names) and service.loaded() == []
    assert not service.ready
    for name in names:
        service.load(name)
    # seed_keras is the default: it answers /api/health, so it stays; functional_fused was used least recently
    assert service.loaded() == ["seed_keras", "conv_bn_relu_blocks", "nested_sequential"] and service.ready
    service.load("conv_bn_relu_blocks")
    assert service.loaded()[-1] == "conv_bn_relu_blocks"
    assert service.load("nested_sequential") is service.load("nested_sequential")
    with pytest.raises(OptionError, match="Unknown model 'lenet': send one of conv_bn_relu_blocks"):
        service.load("lenet")
    options = service.options(model="functional_fused")
    assert options.model == "functional_fused" and options.layer == service.load("functional_fused").default_layer


def fake_evaluation(calls: list, seconds: float = 0.3):
    def evaluate(model, batch_size=1000, progress=None):
        calls.append(model.name)
        for done in (0.5, 1.0):
            time.sleep(seconds / 2)
            progress(done)
        return {"model": model.name, "test_accuracy": 0.5, "test_size": 10}

    return evaluate


def test_a_report_is_computed_once_for_every_worker(tmp_path, model_zoo, monkeypatch):
    """Two services (as two gunicorn workers) asking at once: one computes under the file lock, the other reads."""
    folder = zoo_folder(tmp_path, model_zoo, ["seed_keras"])
    calls: list = []
    monkeypatch.setattr("models.evaluation.evaluate", fake_evaluation(calls))
    workers = [ModelService(Settings(model_path=folder / "seed_keras.keras", models_dir=folder)) for _ in range(2)]
    for worker in workers:
        worker.load()
    progress: list = []
    reports: list = []
    threads = [threading.Thread(target=lambda w=w: reports.append(w.report())) for w in workers]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        progress.extend(p for p in (w.report_progress() for w in workers) if p is not None)
        time.sleep(0.01)
    assert calls == ["seed_keras"] and reports[0] == reports[1]
    assert (folder / "seed_keras.report.json").is_file()  # next to the model
    assert progress and all(0 <= p <= 1 for p in progress) and workers[0].report_progress() is None
    assert workers[0].test_accuracy() == 0.5  # no metadata: from the report


def test_a_read_only_models_folder_keeps_reports_in_the_cache_folder(tmp_path, model_zoo, monkeypatch):
    folder = zoo_folder(tmp_path, model_zoo, ["nested_sequential"])
    calls: list = []
    monkeypatch.setattr("models.evaluation.evaluate", fake_evaluation(calls, 0))
    # Tests may run as root, for whom no folder is read-only: say this one is.
    monkeypatch.setattr("dashapp.service.os.access", lambda path, mode: Path(path) != folder)
    settings = Settings(model_path=folder / "nested_sequential.keras", models_dir=folder, cache_dir=tmp_path / "cache")
    report = ModelService(settings).report()
    assert report["test_accuracy"] == 0.5
    assert (tmp_path / "cache" / "nested_sequential.report.json").is_file()
    assert not (folder / "nested_sequential.report.json").exists()
    assert ModelService(settings).report() == report and calls == ["nested_sequential"]  # found there next time


def test_a_model_uploaded_through_one_worker_is_offered_by_every_worker(tmp_path, model_zoo):
    folder = zoo_folder(tmp_path, model_zoo, ["seed_keras"])
    settings = Settings(model_path=folder / "seed_keras.keras", models_dir=folder, model_uploads=True)
    one, other = ModelService(settings), ModelService(settings)
    assert [entry.name for entry in other.models()] == ["seed_keras"]
    name = one.save_upload("blocks.keras", model_zoo["conv_bn_relu_blocks"].read_bytes())
    assert name == "blocks" and [entry.name for entry in other.models()] == ["blocks", "seed_keras"]
    assert other.load("blocks").layer_names == one.load("blocks").layer_names
    assert not list(folder.glob(".*"))  # no partial file left behind


def test_two_models_compared_side_by_side():
    from models.comparison import compare_reports

    def report(name, accuracy, mistakes):
        return {"model": name, "test_accuracy": accuracy,
                "classes": [{"digit": d, "f1": accuracy} for d in range(10)],
                "misclassified": [{"index": i, "true": t, "predicted": p, "image": [[i]]} for i, t, p in mistakes]}

    result = compare_reports(report("ours", 0.99, [(3, 5, 6), (8, 1, 7)]), report("seed", 0.98, [(3, 5, 9), (4, 2, 0)]))
    assert result["models"] == ["ours", "seed"] and result["test_accuracy"] == [0.99, 0.98]
    assert result["classes"][0] == {"digit": 0, "f1": [0.99, 0.98]}
    assert result["only_one_right"] == [  # digit 3: both wrong, so not listed
        {"index": 4, "true": 2, "read": {"ours": 2, "seed": 0}, "right": "ours", "image": [[4]]},
        {"index": 8, "true": 1, "read": {"ours": 7, "seed": 1}, "right": "seed", "image": [[8]]},
    ]


def test_the_shipped_models_compare_out_of_the_box():
    service = ModelService(Settings())
    result = service.comparison(None, "seed_cnn")
    ours, seed = (service.report(name) for name in ("digit_cnn", "seed_cnn"))
    assert result["models"] == ["digit_cnn", "seed_cnn"] and result["test_accuracy"][0] > result["test_accuracy"][1]
    wrong = [{m["index"] for m in r["misclassified"]} for r in (ours, seed)]
    assert len(result["only_one_right"]) == len(wrong[0] ^ wrong[1]) > 0
    assert all(d["read"][d["right"]] == d["true"] for d in result["only_one_right"])


def test_a_request_for_the_default_or_a_loaded_model_reads_no_folder(tmp_path, model_zoo, monkeypatch):
    """Only a model not yet in memory is looked up in the models folder (a listing per request cost 0.1 ms)."""
    import dashapp.service

    folder = zoo_folder(tmp_path, model_zoo, ["seed_keras", "functional_fused"])
    service = ModelService(Settings(model_path=folder / "seed_keras.keras", models_dir=folder))
    service.load()  # a worker loads the default model before it takes requests
    service.load("functional_fused")
    listings = []
    real = dashapp.service.model_files
    monkeypatch.setattr(dashapp.service, "model_files", lambda *a: listings.append(a) or real(*a))
    for name in (None, "", "seed_keras", "functional_fused"):
        service.options(model=name)
        service.load(name)
    assert listings == []
    with pytest.raises(OptionError, match="Unknown model 'lenet'"):
        service.options(model="lenet")
    assert len(listings) == 1


def scoreboard_report(path: Path, method: str, layer: str | None) -> None:
    """A report next to the model whose scoreboard recommends (method, layer)."""
    from models.report import report_path, write_json

    row = {"method": method, "layer": layer, "deletion_auc": 0.1, "insertion_auc": 0.9, "empty_rate": 0.0,
           "sanity_rank_correlation": 0.0, "ms": 1.0}
    write_json(report_path(path), {"explanations": {"rows": [row]}})


@pytest.mark.parametrize("layer_of", [lambda layers: layers[0], lambda layers: "conv99"])
def test_loading_compiles_the_recommended_explanation_and_skips_a_stale_one(tmp_path, model_zoo, layer_of,
                                                                             monkeypatch):
    """The predict page opens on the scoreboard's (method, layer): a worker compiles it before its first
    request (the first answer took 430 ms without). A report naming a layer the model lacks is skipped."""
    import dashapp.service
    from models.inference import FAITHFULNESS_STEPS

    folder = zoo_folder(tmp_path, model_zoo, ["seed_keras"])
    model_path = folder / "seed_keras.keras"
    layers = ModelService(Settings(model_path=model_path, models_dir=folder)).load().layer_names
    scoreboard_report(model_path, "scorecam", layer_of(layers))
    service = ModelService(Settings(model_path=model_path, models_dir=folder))
    reads = []
    real = dashapp.service.read_json
    monkeypatch.setattr(dashapp.service, "read_json", lambda path: reads.append(path) or real(path))
    model = service.load()
    compiled = set(model.engine._explainers)
    assert service.recommended() == ("scorecam", layer_of(layers))
    assert len(reads) == 1  # the report read while loading serves the page's first look at it
    assert ((layers[0], "scorecam", FAITHFULNESS_STEPS) in compiled) == (layer_of(layers) in layers)
    assert (layers[-1], "gradcam", FAITHFULNESS_STEPS) in compiled  # the default, always
