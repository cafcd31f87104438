"""Not a digit: every answer says whether the input looks like a digit to the model, for any model."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.novelty import (
    DETECTORS,
    DIGITS_KEPT,
    EXPOSURE_HEADS,
    NoveltyDetector,
    fit,
    fit_exposure,
    novelty_path,
    thresholds_for,
)
from train.nondigits import auroc

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client(dash_app):
    return dash_app.server.test_client()


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def test_every_model_answers_with_its_novelty(any_model, mnist_test):
    """The API's, CLI's and page's prediction object carries the score, the threshold and the verdict."""
    x, _ = mnist_test
    answer = any_model.predict(x[0].astype(np.float32) / 255)
    novelty = answer["novelty"]
    assert set(novelty) == {"is_digit", "score", "threshold", "detector"}
    assert novelty["detector"] in DETECTORS
    assert novelty["is_digit"] == (novelty["score"] <= novelty["threshold"])
    assert answer["top"] and answer["explanation"]["heatmap"]  # the closest digit and its map are still given


def test_the_threshold_keeps_99_percent_of_mnist_test_digits(any_model, mnist_test):
    x, _ = mnist_test
    images = x[:3000].astype(np.float32) / 255
    *_, scores = any_model.explain_with_novelty(images)
    kept = np.mean(scores <= any_model.novelty.threshold)
    assert DIGITS_KEPT - 0.01 <= kept <= 1.0


def test_the_compiled_score_is_the_detectors_own(any_model, mnist_test):
    """The score that comes out of the explanation's compiled call equals the detector run on its own."""
    x, _ = mnist_test
    images = x[100:164].astype(np.float32) / 255
    *_, compiled = any_model.explain_with_novelty(images, None, "gradcam")
    features, logits = any_model.features_and_logits(images, pooled=True)
    alone = any_model.novelty.all_scores(features, logits)[any_model.novelty.detector]
    np.testing.assert_allclose(compiled, alone, rtol=1e-4, atol=1e-4)


def test_the_novelty_features_are_the_penultimate_then_each_conv_averaged_then_its_maximum(any_model, mnist_test):
    """What the exposure detector reads: a stroke part seen in one place only shows in the maximum."""
    x, _ = mnist_test
    images = x[:8].astype(np.float32) / 255
    features, _ = any_model.features_and_logits(images, pooled=True)
    penultimate, _ = any_model.features_and_logits(images)
    taps = [np.asarray(any_model.spec.activations(name)(images[..., None]), np.float32)
            for name in any_model.spec.conv_names]
    spaces = [tuple(range(1, tap.ndim - 1)) for tap in taps]
    expected = np.concatenate([penultimate, *(tap.mean(axis=a) for tap, a in zip(taps, spaces, strict=True)),
                               *(tap.max(axis=a) for tap, a in zip(taps, spaces, strict=True))], axis=1)
    np.testing.assert_allclose(features, expected, rtol=1e-3, atol=1e-4)


def test_detectors_match_their_papers_formulas():
    """Each score against a plain NumPy reference on random features."""
    rng = np.random.default_rng(0)
    classes, dims = 10, 12
    labels = rng.integers(0, classes, 600)
    centres = rng.normal(0, 3, (classes, dims))
    features = np.maximum(centres[labels] + rng.normal(0, 1, (600, dims)), 0).astype(np.float32)
    kernel, bias = rng.normal(0, 1, (dims, classes)).astype(np.float32), rng.normal(0, 1, classes).astype(np.float32)
    logits = features @ kernel + bias
    params = fit(features, logits, labels, (kernel, bias))
    params["ensemble_center"] = np.array([0.1, -3.0, 20.0, 0.05, 1.0], np.float32)
    params["ensemble_scale"] = np.array([0.5, 2.0, 30.0, 0.2, 4.0], np.float32)
    detector = NoveltyDetector("energy", {}, params)
    probe_features = np.abs(rng.normal(0, 3, (7, dims))).astype(np.float32)
    probe_logits = probe_features @ kernel + bias
    got = detector.all_scores(probe_features, probe_logits)

    softmax = np.exp(probe_logits - probe_logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    np.testing.assert_allclose(got["msp"], 1 - softmax.max(1), atol=1e-5)
    log_sum_exp = np.log(np.exp(probe_logits.astype(np.float64)).sum(1))
    np.testing.assert_allclose(got["energy"], -log_sum_exp, rtol=1e-5)

    means = np.stack([features[labels == c].mean(0) for c in range(classes)]).astype(np.float64)
    centred = features - means[labels]
    covariance = centred.T @ centred / (len(features) - 1)
    covariance += np.eye(dims) * (1e-3 * np.trace(covariance) / dims + 1e-9)
    inverse = np.linalg.inv(covariance)
    mahalanobis = [min((f - m) @ inverse @ (f - m) for m in means) for f in probe_features.astype(np.float64)]
    np.testing.assert_allclose(got["mahalanobis"], mahalanobis, rtol=1e-3)

    bank = params["bank"]
    unit = probe_features / np.linalg.norm(probe_features, axis=1, keepdims=True)
    kth = np.sort(unit @ bank.T, axis=1)[:, -10]
    np.testing.assert_allclose(got["knn"], 1 - kth, atol=1e-5)

    origin = -np.linalg.pinv(kernel.T) @ bias
    _, _, vt = np.linalg.svd(features - origin, full_matrices=False)
    residual = np.linalg.norm((probe_features - origin) @ vt[dims // 2:].T, axis=1)
    np.testing.assert_allclose(got["residual"], residual, rtol=1e-3)
    np.testing.assert_allclose(got["vim"], params["alpha"] * residual - log_sum_exp, rtol=1e-3)
    members = np.stack([got[name] for name in ("msp", "energy", "mahalanobis", "knn", "vim")], axis=1)
    expected = ((members - params["ensemble_center"]) / params["ensemble_scale"]).max(axis=1)
    np.testing.assert_allclose(got["ensemble"], expected, rtol=1e-4, atol=1e-5)


def test_the_exposure_detector_is_two_small_classifiers_on_the_features():
    """The exposure score against NumPy: each head's ReLU layer and output, on the test digits' scale, averaged;
    trained, it separates the two kinds it learnt from, also on new samples of them."""
    rng = np.random.default_rng(1)
    dims, pooled_dims, classes = 12, 6, 10

    def sample(count, shift):
        features = np.abs(rng.normal(shift, 1, (count, dims + pooled_dims))).astype(np.float32)
        return features, rng.normal(0, 1, (count, classes)).astype(np.float32) + shift

    digits, others = sample(800, 0.0), sample(400, 1.5)
    params = fit_exposure(*digits, *others, dims)
    for head in EXPOSURE_HEADS:
        params[f"{head}_center"], params[f"{head}_scale"] = np.float32(rng.normal()), np.float32(rng.uniform(1, 2))
    detector = NoveltyDetector("exposure", {}, {**params, "feature_dims": np.array(dims)})
    probe_features, probe_logits = sample(9, 0.7)
    heads = []
    for head in EXPOSURE_HEADS:
        inputs = np.concatenate([probe_features[:, :dims] if head == "last" else probe_features, probe_logits], 1)
        hidden = np.maximum((inputs - params[f"{head}_mean"]) / params[f"{head}_std"] @ params[f"{head}_w1"]
                            + params[f"{head}_b1"], 0)
        heads.append(((hidden @ params[f"{head}_w2"])[:, 0] + params[f"{head}_b2"] - params[f"{head}_center"])
                     / params[f"{head}_scale"])
    got = detector.all_scores(probe_features, probe_logits, ("exposure",))["exposure"]
    np.testing.assert_allclose(got, np.mean(heads, axis=0), rtol=1e-4, atol=1e-4)
    new_digits, new_others = sample(200, 0.0), sample(200, 1.5)
    assert auroc(detector.all_scores(*new_digits, ("exposure",))["exposure"],
                 detector.all_scores(*new_others, ("exposure",))["exposure"]) > 0.95


def test_without_the_fit_set_there_is_no_exposure_detector(model_zoo, monkeypatch, tmp_path):
    from models import novelty
    from models.inference import DigitModel

    monkeypatch.setattr(novelty, "FIT_SET_PATH", tmp_path / "missing.npz")
    monkeypatch.setattr(novelty, "read_fit_set", lambda path=tmp_path / "missing.npz": None)
    # novelty=False: loading must not fit (and keep beside the shared zoo file) detectors without the fit set
    fitted = novelty.fit_for_model(DigitModel.load(model_zoo["seed_h5"], novelty=False))
    assert "exposure" not in fitted.thresholds and "knn" in fitted.thresholds


def test_the_shipped_fit_set_holds_digits_and_exposure_kinds_only():
    """The exposure detector learns from training digits (corrupted, drawn) and the exposure kinds: as the
    model sees them, no blank input, enough of each."""
    from models.novelty import read_fit_set

    fit_set = read_fit_set()
    assert fit_set is not None, "models/novelty_fit_set.npz is missing: python -m train.nondigits writes it"
    assert len(fit_set["digits"]) >= 3000 and len(fit_set["exposure"]) >= 5000
    for inputs in fit_set.values():
        assert inputs.shape[1:] == (28, 28) and 0 <= inputs.min() and inputs.max() <= 1
        assert np.all(inputs.reshape(len(inputs), -1).max(axis=1) > 0.1)  # none blank


def test_thresholds_are_the_99th_percentile():
    scores = {"energy": np.arange(1000, dtype=np.float64)}
    assert thresholds_for(scores)["energy"] == pytest.approx(np.quantile(scores["energy"], 0.99))


def test_the_fit_is_made_once_and_kept_beside_the_model(model_zoo, monkeypatch):
    """A second load reads NAME.novelty.npz; a file made for another version of the model is fitted again."""
    from models import novelty
    from models.inference import DigitModel

    path = model_zoo["conv_bn_relu_blocks"]
    DigitModel.load(path)  # fitted (or read) and kept
    assert novelty_path(path).is_file()
    monkeypatch.setattr(novelty, "fit_for_model", lambda *a, **k: pytest.fail("fitted again on a second load"))
    again = DigitModel.load(path)
    assert again.novelty.model_digest == again.digest
    stale = NoveltyDetector.read(novelty_path(path))
    stale.model_digest = "another model file"
    stale.save(novelty_path(path))
    monkeypatch.undo()
    refitted = DigitModel.load(path)
    assert NoveltyDetector.read(novelty_path(path)).model_digest == refitted.digest


def test_without_mnist_the_answer_falls_back_to_the_softmax(model_zoo, monkeypatch, tmp_path):
    from models import novelty
    from models.inference import FALLBACK_MSP, DigitModel
    from models.mnist import MnistError

    def no_mnist(*_args, **_kwargs):
        raise MnistError("no MNIST here")

    copy = tmp_path / "offline.keras"
    copy.write_bytes(model_zoo["conv_bn_relu_blocks"].read_bytes())
    monkeypatch.setattr(novelty, "fit_for_model", no_mnist)
    monkeypatch.setattr(novelty, "_FITTED", {})  # nothing fitted earlier in this process
    model = DigitModel.load(copy)
    assert model.novelty.detector == "msp" and model.novelty.threshold == pytest.approx(1 - FALLBACK_MSP)


def _printed_words() -> list[bytes]:
    """Words in a printed face, as photographed or saved: the non-digit kind every detector of the
    shipped models flags most surely (see the README's table)."""
    from train.nondigits import nondigit_files

    return nondigit_files("printed-words", 3, seed=1)


def test_api_a_readable_non_digit_is_a_200_that_says_so(client):
    for data in _printed_words():
        response = client.post("/api/predict", data={"image": (io.BytesIO(data), "thing.png")})
        assert response.status_code == 200
        body = response.get_json()
        assert body["novelty"]["is_digit"] is False
        assert len(body["top"]) == 3 and body["explanation"]["heatmap"]


def test_api_blank_and_one_dot_keep_no_digit_found(client):
    yy, xx = np.mgrid[0:200, 0:200]
    dot = np.where((yy - 100) ** 2 + (xx - 100) ** 2 < 144, 0, 255).astype(np.uint8)  # a full stop
    for data in (png(np.zeros((100, 100), np.uint8)), png(dot)):
        response = client.post("/api/predict", data={"image": (io.BytesIO(data), "blank.png")})
        assert response.status_code == 400
        assert "No digit found" in response.get_json()["error"]


def _sticker(seed: int) -> np.ndarray:
    """A round face (an emoji) or a page of lines (an icon), in colour, on a transparent background."""
    import cv2

    rng = np.random.default_rng(seed)
    rgba = np.zeros((300, 300, 4), np.uint8)
    colour = (*(int(v) for v in rng.integers(120, 256, 3)), 255)
    dark = (*(int(v) for v in rng.integers(0, 60, 3)), 255)
    if seed % 2:
        r = int(rng.integers(90, 140))
        cv2.circle(rgba, (150, 150), r, colour, -1, cv2.LINE_AA)
        for side in (-1, 1):
            cv2.circle(rgba, (150 + side * r // 3, 150 - r // 4), r // 8, dark, -1, cv2.LINE_AA)
        cv2.ellipse(rgba, (150, 150 + r // 6), (r // 2, r // 3), 0, 20, 160, dark, max(3, r // 12), cv2.LINE_AA)
    else:
        cv2.rectangle(rgba, (70, 30), (230, 270), colour, -1)
        for y in range(60, 250, int(rng.integers(18, 30))):
            cv2.line(rgba, (90, y), (int(rng.integers(150, 211)), y), dark, 6)
    return rgba


def test_api_stickers_and_icons_are_no_digits_not_blanks(client):
    """Pictures on a transparent background (a face, a page of lines) were read by their outline alone, a
    solid disc or square: "No digit found", as for a blank (48 of 76 desktop icons). Each is a readable
    image that is no digit: a 200 that says so."""
    for seed in range(6):
        response = client.post("/api/predict", data={"image": (io.BytesIO(png(_sticker(seed))), "sticker.png")})
        assert response.status_code == 200, (seed, response.get_json())
        assert response.get_json()["novelty"]["is_digit"] is False, seed


def test_api_a_test_digit_is_a_digit(client, mnist_test):
    x, y = mnist_test
    for i in range(5):
        big = np.kron(x[i], np.ones((6, 6), np.uint8))
        body = client.post("/api/predict", data={"image": (io.BytesIO(png(big)), "digit.png")}).get_json()
        assert body["novelty"]["is_digit"] is True
        assert body["top"][0]["digit"] == y[i]


def test_cli_says_not_a_digit(tmp_path):
    files = []
    for i, data in enumerate(_printed_words()):
        files.append(tmp_path / f"thing{i}.png")
        files[-1].write_bytes(data)
    result = subprocess.run([sys.executable, "-m", "models", "predict", *map(str, files), "--model", "seed_cnn"],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert all("not a digit" in line for line in result.stdout.strip().splitlines())
    as_json = subprocess.run([sys.executable, "-m", "models", "predict", str(files[0]), "--json"],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert json.loads(as_json.stdout)["novelty"]["is_digit"] is False


def test_every_kind_of_non_digit_is_made_seeded_and_readable():
    from train.nondigits import NONDIGIT_KINDS, _model_inputs, nondigit_files

    digits = (np.random.default_rng(0).random((20, 28, 28)) > 0.7).astype(np.uint8) * 255
    for kind in NONDIGIT_KINDS:
        first = nondigit_files(kind, 6, seed=3, digits=digits)
        assert first == nondigit_files(kind, 6, seed=3, digits=digits), kind  # seeded
        assert first != nondigit_files(kind, 6, seed=4, digits=digits), kind
        assert len(_model_inputs(first)) >= 4, kind  # the pipeline reads (most of) them as some input


def test_typeset_characters_are_real_glyphs_of_no_digit():
    """The typeset exposure kind: no digit nor a character written like one among them; a character a font
    lacks is never drawn as the font's empty box; seeded, readable and varied inks."""
    from models.preprocess import normalize_ink
    from train.nondigits import TYPESET, _type_faces, _typeset, typeset_character

    characters = set("".join(TYPESET))
    assert not characters & set("0123456789OoDIlijSsZzBbGgq|○◯❶❘ЗбЧО∂¬")
    face = next(f for f in _type_faces() if "DejaVuSans.ttf" in f)
    assert _typeset(face, "\U0010fffd") is None and _typeset(face, "A") is not None
    inks = [typeset_character(np.random.default_rng(5), None) for _ in range(2)]
    np.testing.assert_array_equal(inks[0], inks[1])
    rng = np.random.default_rng(6)
    inputs = np.stack([normalize_ink(typeset_character(rng, None)) for _ in range(12)])
    assert inputs.reshape(12, -1).max(axis=1).min() > 0.5
    assert np.abs(inputs[:6] - inputs[6:]).mean() > 0.05  # not one glyph again and again


def test_swollen_digits_are_solids_with_no_loop_and_the_pair_reader_never_saw_them(mnist_test):
    """The swollen-digit exposure kind: a training digit thickened until no loop of paper is left inside,
    strokes over twice the digit's own width; seeded. The pair reader's no-digit inks (``swollen=False``)
    are the earlier kinds in their earlier turns, what the shipped reader was trained on."""
    import cv2

    from models.preprocess import _stroke_width
    from train.nondigits import exposure_inks, swollen_digit

    digits, labels = mnist_test
    for n, eight in enumerate(digits[np.flatnonzero(labels == 8)[:20]]):
        solid = swollen_digit(np.random.default_rng(n), eight[None])
        mask = solid > 0.5 * solid.max()
        _, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        assert (hierarchy[0][:, 3] < 0).all(), n  # no contour inside another: both loops of the 8 are closed
        own = cv2.resize(eight, (64, 64), interpolation=cv2.INTER_CUBIC) > 127
        assert _stroke_width(mask) > 2 * _stroke_width(own), n
    np.testing.assert_array_equal(swollen_digit(np.random.default_rng(1), digits[:9]),
                                  swollen_digit(np.random.default_rng(1), digits[:9]))
    every, earlier = exposure_inks(7, 3, digits[:500]), exposure_inks(7, 3, digits[:500], swollen=False)
    for a, b in zip(every[:6], earlier[:6], strict=True):
        np.testing.assert_array_equal(a, b)  # the same kinds in the same turns, the same draws
    assert every[6].shape == (64, 64) and not np.array_equal(every[6], earlier[6])


def test_report_section_has_the_designed_keys(digit_model):
    """The shipped model's report carries DESIGN.md's novelty scoreboard, and the app uses its choice."""
    from models import DEFAULT_MODEL_PATH
    from models.report import read_report

    section = read_report(DEFAULT_MODEL_PATH)["novelty"]
    assert section["detector"] == digit_model.novelty.detector
    assert section["threshold"] == pytest.approx(digit_model.novelty.threshold, rel=1e-4)
    names = {row["name"] for row in section["detectors"]}
    assert {"msp", "energy", "mahalanobis", "knn", "vim"} <= names
    for row in section["detectors"]:
        assert {"name", "auroc", "fpr_at_95_tpr", "per_kind", "digits_flagged"} <= set(row)
        assert 0 <= row["auroc"] <= 1
        assert {"mnist-test", "mnist-c", "canvas"} <= set(row["digits_flagged"])


def test_every_detector_scores_inside_every_compiled_explanation(model_zoo, mnist_test):
    """Each detector's fitted constants are made once and serve every compiled call of the model
    (two layers, a pixel-level method), each giving the detector's own score."""
    from models.inference import DigitModel

    model = DigitModel.load(model_zoo["seed_h5"])
    x, _ = mnist_test
    images = x[:16].astype(np.float32) / 255
    features, logits = model.features_and_logits(images, pooled=True)
    fitted = model.novelty
    for name in DETECTORS:
        model.engine.set_novelty(fitted.using(name))
        expected = fitted.all_scores(features, logits)[name]
        for layer, method in ((model.layer_names[0], "gradcam"), (model.layer_names[-1], "layercam"),
                              (None, "occlusion")):
            *_, scores = model.explain_with_novelty(images, layer, method)
            np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4, err_msg=f"{name} {method} {layer}")


def test_a_read_only_models_folder_keeps_the_fit_in_the_cache_or_in_memory(model_zoo, monkeypatch, tmp_path):
    import os

    from models import novelty
    from models.inference import DigitModel

    folder = tmp_path / "read-only"
    folder.mkdir()
    path = folder / "net.keras"
    path.write_bytes(model_zoo["conv_bn_relu_blocks"].read_bytes())
    writable = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == folder else writable(p, mode))
    in_memory = DigitModel.load(path)  # the CLI: no cache folder
    assert in_memory.novelty.thresholds and not list(folder.glob("*.novelty.*"))
    cache = tmp_path / "cache"
    DigitModel.load(path, cache_dir=cache)  # the app: its cache folder
    assert (cache / "net.novelty.npz").is_file() and not list(folder.glob("*.novelty.*"))
    monkeypatch.setattr(novelty, "fit_for_model", lambda *a, **k: pytest.fail("fitted again"))
    assert DigitModel.load(path, cache_dir=cache).novelty.model_digest == in_memory.digest
