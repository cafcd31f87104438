"""Which explanation to trust: the scoreboard's numbers, its recommendation, its figures, its API route."""

from __future__ import annotations

import numpy as np
import pytest

from callbacks.explanation_figures import INPUT_COLUMN, sanity_figure, sanity_text, scoreboard_figure, scoreboard_text
from models.methods import LAYER_METHODS, PIXEL_METHODS
from models.scoreboard import (
    SANITY_THRESHOLD,
    default_reason,
    default_row,
    explanations_section,
    randomised_spec,
    recommendation_sentences,
    recommended_row,
    spearman,
)

ROW_KEYS = ["method", "layer", "deletion_auc", "insertion_auc", "empty_rate", "sanity_rank_correlation", "ms"]


def row(method, layer, deletion, insertion, empty=0.0, sanity=0.1, ms=1.0) -> dict:
    return dict(zip(ROW_KEYS, (method, layer, deletion, insertion, empty, sanity, ms), strict=True))


@pytest.fixture
def section() -> dict:
    rows = [row("gradcam", "conv1", 0.5, 0.6, empty=0.26), row("layercam", "conv1", 0.2, 0.9, sanity=0.9),
            row("gradcam", "conv2", 0.3, 0.8), row("layercam", "conv2", 0.25, 0.85),
            row("occlusion", None, 0.2, 0.9, sanity=0.3)]
    sanity = [{"method": r["method"], "layer": layer, "rank_correlation": r["sanity_rank_correlation"]}
              for r in rows for layer in ("conv1", "conv2") if r["layer"] in (layer, None)]
    return {"digits": 500, "sanity_digits": 100, "rows": rows, "sanity": sanity}


def test_spearman_matches_the_rank_formula_with_ties():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, (5, 30)).astype(float)  # many ties, as in maps with a zero background
    b = a + rng.normal(0, 1, a.shape)
    def mean_ranks(values):  # 1-based; tied values share the mean of their ranks
        return np.array([(values < v).sum() + ((values == v).sum() + 1) / 2 for v in values])

    for x, y, rho in zip(a, b, spearman(a, b), strict=True):
        assert rho == pytest.approx(np.corrcoef(mean_ranks(x), mean_ranks(y))[0, 1])
    np.testing.assert_allclose(spearman(a, a), 1.0)
    assert spearman(np.zeros((1, 9)), np.arange(9.0)[None])[0] == 0.0  # a map that vanished: nothing left
    assert np.isnan(spearman(np.zeros((1, 9)), np.zeros((1, 9)))[0])


def test_the_most_faithful_trusted_row_is_recommended_in_plain_words(section):
    # layercam at conv1 is more faithful but fails the sanity check; occlusion ties it and passes.
    assert (recommended_row(section)["method"], recommended_row(section)["layer"]) == ("occlusion", None)
    sentences = recommendation_sentences(section)
    assert sentences[0].startswith("On this model, Occlusion is the most faithful") and "passes" in sentences[0]
    assert "Grad-CAM at conv1 is empty for 26% of digits." in sentences
    assert any(s.startswith("Layer-CAM at conv1 hardly changes") for s in sentences)
    for r in section["rows"]:
        r["sanity_rank_correlation"] = 0.9
    assert "no map passes the sanity check" in recommendation_sentences(section)[0]
    assert recommendation_sentences({"rows": []}) == ["No explanation has been scored on this model yet."]


def test_scoreboard_figure_is_a_methods_by_layers_grid_with_raw_numbers(section):
    figure = scoreboard_figure(section)
    heat = figure["data"][0]
    assert heat["type"] == "heatmap" and heat["x"] == ["conv1", "conv2", INPUT_COLUMN]
    assert heat["y"] == ["Grad-CAM", "Layer-CAM", "Occlusion"]
    assert heat["z"][0] == [pytest.approx(0.1), pytest.approx(0.5), None]
    assert heat["z"][2] == [None, None, pytest.approx(0.7)]
    assert heat["customdata"][0][0][:3] == [0.5, 0.6, 26.0] and "deletion AUC" in heat["hovertemplate"]
    assert heat["text"][2][2] == "0.70 ✓" and heat["text"][1][0] == "0.70"  # fails the sanity check: no mark
    text = scoreboard_text(section)
    assert text.index("Occlusion") < text.index("Grad-CAM at conv1")


def test_sanity_figure_draws_one_line_per_method_from_the_logits_down(section):
    figure = sanity_figure(section)
    assert [t["name"] for t in figure["data"]] == ["Grad-CAM", "Layer-CAM", "Occlusion"]
    assert figure["data"][0]["x"] == ["down to conv2", "down to conv1"]
    assert figure["layout"]["shapes"][0]["y0"] == SANITY_THRESHOLD
    assert "Layer-CAM at conv1" in sanity_text(section).split("fails")[1]


def test_randomising_a_clone_leaves_the_loaded_model_alone(digit_model, mnist_test):
    x, _ = mnist_test
    images = x[:8].astype(np.float32) / 255
    before = digit_model.probabilities(images)
    weights = [w.copy() for w in digit_model.keras_model.get_weights()]
    spec = randomised_spec(digit_model, "conv3")
    trained = {layer.name: layer.get_weights() for layer in digit_model.spec.network.layers}
    changed = [layer.name for layer in spec.network.layers if layer.weights and not all(
        np.array_equal(a, b) for a, b in zip(layer.get_weights(), trained[layer.name], strict=True))]
    assert changed[0].startswith("conv3") and not any(name.startswith(("conv1", "conv2")) for name in changed)
    assert all(np.array_equal(a, b) for a, b in zip(weights, digit_model.keras_model.get_weights(), strict=True))
    np.testing.assert_array_equal(digit_model.probabilities(images), before)


# The shipped model and the zoo's nested one: the section is assembled alike for every model, whose engine
# (every method at the first and last layer) test_core_explain checks over the whole zoo; each model here
# compiles every method at every layer twice over (the sanity check), 20-50 s apiece.
@pytest.mark.parametrize("any_model", ["digit_cnn", "nested_sequential"], indirect=True)
def test_section_scores_every_method_at_every_layer(any_model, mnist_test):
    x, _ = mnist_test
    section = explanations_section(any_model, x[:16].astype(np.float32) / 255, sanity_digits=8)
    assert section["digits"] == 16 and section["sanity_digits"] == 8
    pairs = [(r["method"], r["layer"]) for r in section["rows"]]
    assert pairs == [(m, layer) for layer in any_model.layer_names for m in LAYER_METHODS] + \
        [(m, None) for m in PIXEL_METHODS]
    for r in section["rows"]:
        assert list(r) == ROW_KEYS
        assert 0 <= r["deletion_auc"] <= 1 and 0 <= r["insertion_auc"] <= 1 and 0 <= r["empty_rate"] <= 1
        assert r["ms"] > 0 and -1 <= r["sanity_rank_correlation"] <= 1
    # At each depth: every layer method at that layer, and every pixel-level method.
    assert len(section["sanity"]) == len(any_model.layer_names) * (len(LAYER_METHODS) + len(PIXEL_METHODS))
    assert recommended_row(section) is not None


def test_api_answers_the_section_or_says_how_to_make_it(dash_app, monkeypatch):
    from callbacks import SERVICE_EXTENSION

    client = dash_app.server.test_client()
    service = dash_app.server.extensions[SERVICE_EXTENSION]
    response = client.get("/api/explanations")
    if service.explanations() is not None:
        assert response.status_code == 200 and list(response.json["rows"][0]) == ROW_KEYS
    assert client.get("/api/explanations?model=nope").status_code == 400
    monkeypatch.setattr(type(service), "explanations", lambda self, name=None: None)
    response = client.get("/api/explanations?model=seed_cnn")
    assert response.status_code == 404 and "python -m train.evaluate --model seed_cnn" in response.json["error"]
    assert service.recommended("seed_cnn") == ("gradcam", "conv2d_1")  # no scoreboard: the defaults


def test_recommended_method_and_layer_come_from_the_report(dash_app, monkeypatch, section):
    from callbacks import SERVICE_EXTENSION

    service = dash_app.server.extensions[SERVICE_EXTENSION]
    section["rows"][4]["insertion_auc"] = 0.1  # occlusion no longer the best: Layer-CAM at conv2 is
    section["rows"][2]["insertion_auc"] = 0.7  # and Grad-CAM (0.40) is not faithful enough to open on
    monkeypatch.setattr(type(service), "explanations", lambda self, name=None: section)
    assert service.recommended() == ("layercam", "conv2")


def test_the_predict_page_opens_on_grad_cam_where_it_is_faithful_and_sane(section):
    """Grad-CAM is the method people came for: the default wherever the scoreboard trusts it, even when
    another map is a little more faithful; else the recommendation, and the reason says which."""
    assert (default_row(section)["method"], default_row(section)["layer"]) == ("gradcam", "conv2")  # 0.50
    assert default_reason(section).startswith("Grad-CAM at conv2 is the default map: the scoreboard finds it "
                                              "faithful (insertion minus deletion 0.50) and sane")
    section["rows"][2]["sanity_rank_correlation"] = 0.8  # no longer sane
    assert default_row(section) is recommended_row(section)
    assert "Grad-CAM is not faithful or not sane enough" in default_reason(section)
    assert default_reason({"rows": []}) == ""


def test_method_menu_marks_each_option_with_its_score_at_the_layer(section):
    from callbacks.explanation_figures import method_options

    labels = {o["value"]: o["label"] for o in method_options(section, "conv1")}
    assert labels["gradcam"] == "Grad-CAM · 0.10" and labels["layercam"] == "Layer-CAM · 0.70"
    assert labels["occlusion"] == "Occlusion · 0.70 ✓" and labels["scorecam"] == "Score-CAM"  # not scored here
    assert method_options(None, "conv1")[0] == {"label": "Grad-CAM", "value": "gradcam"}
