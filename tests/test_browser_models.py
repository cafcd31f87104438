"""Several models in the UI: the navbar's model menu followed by every page, comparing two models,
model uploads (off by default). The callbacks' helpers first, then the real pages in headless Chromium."""

from __future__ import annotations

import base64
import shutil

import numpy as np
import pytest
from conftest import DASH_TEST_PORT
from dash import dcc, html
from dash.testing.wait import until
from test_browser import SEVEN, TIMEOUT, draw, figure, heatmap_title, wait_for_reading
from test_browser_pages import open_page

from callbacks.evaluation import comparison_card, comparison_table
from callbacks.models import chosen_model, compare_options, model_options, upload_model
from dashapp.service import ModelService
from dashapp.settings import Settings
from layouts import ids
from layouts.shell import NO_COMPARISON, shell
from models import DEFAULT_MODEL_PATH, MODELS_DIR
from models.comparison import compare_reports
from models.report import read_report

SEED = "seed_cnn"
SEED_LAYERS = ["conv2d", "conv2d_1"]  # Keras's own names: the original app named none of its layers
MODELS = [{"name": "digit_cnn", "file": "digit_cnn.keras", "test_accuracy": 0.9931, "default": True},
          {"name": SEED, "file": "seed_cnn.h5", "test_accuracy": 0.9891, "default": False},
          {"name": "mine", "file": "mine.keras", "test_accuracy": None, "default": False}]


def component_ids(component) -> set[str]:
    found = {component.id} if isinstance(getattr(component, "id", None), str) else set()
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            found |= component_ids(child)
    return found


# --- without a browser ----------------------------------------------------------------------------------


def test_model_menus_offer_every_model_with_its_accuracy_and_keep_the_session_choice():
    assert [o["label"] for o in model_options(MODELS)] == ["digit_cnn (99.31%)", "seed_cnn (98.91%)", "mine"]
    names = [m["name"] for m in MODELS]
    assert chosen_model(SEED, "digit_cnn", picked=True, names=names, default="digit_cnn") == SEED
    assert chosen_model(None, SEED, picked=False, names=names, default="digit_cnn") == SEED  # a page opened
    assert chosen_model(None, "gone", picked=False, names=names, default="digit_cnn") == "digit_cnn"
    compare = compare_options(MODELS, SEED)
    assert [o["value"] for o in compare] == [NO_COMPARISON, "digit_cnn", "mine"]  # never the model itself


def upload_and_its_box(component, parent=None):
    """The model-upload component of a layout, and the element around it."""
    if getattr(component, "id", None) == ids.MODEL_UPLOAD:
        return component, parent
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json") and (found := upload_and_its_box(child, component)) is not None:
            return found
    return None


def test_model_upload_is_only_offered_in_the_navbar_when_uploads_are_on():
    pages = [{"name": "Layers", "relative_path": "/layers", "path": "/layers"}]
    assert {ids.MODEL_DROPDOWN, ids.SELECTED_MODEL} <= component_ids(shell(pages))
    off, off_box = upload_and_its_box(shell(pages))
    on, on_box = upload_and_its_box(shell(pages, model_uploads=True))
    assert off.disabled and off_box.hidden  # hidden, not left out: its callback's ids stay in the layout
    assert not on.disabled and not on_box.hidden and on.accept == ".keras"


def data_url(data: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


def test_an_uploaded_model_is_checked_saved_and_named_or_refused_with_its_sentence(tmp_path, model_zoo,
                                                                                  refused_models):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(MODELS_DIR / "seed_cnn.h5", folder / "seed_cnn.h5")
    service = ModelService(Settings(model_path=folder / "seed_cnn.h5", models_dir=folder, model_uploads=True,
                                    max_model_bytes=5_000_000))
    good = model_zoo["seed_keras"].read_bytes()
    name, sentence = upload_model(service, "My Net.keras", data_url(good))
    assert name == "My_Net" and "My_Net" in sentence and "My_Net" in [e.name for e in service.models()]
    assert upload_model(service, "My Net.keras", data_url(good))[0] == "My_Net_2"  # never replaces one

    name, sentence = upload_model(service, "junk.keras", data_url(refused_models["random_bytes"].read_bytes()))
    assert name is None and "junk.keras is not a model" in sentence and "Traceback" not in sentence
    name, sentence = upload_model(service, "net.h5", data_url(good))
    assert name is None and "not a .keras file" in sentence
    name, sentence = upload_model(service, "big.keras", data_url(b"0" * 5_000_001))
    assert name is None and "over the 5.0 MB limit" in sentence

    off = ModelService(Settings(model_path=folder / "seed_cnn.h5", models_dir=folder))
    assert "uploads are off" in upload_model(off, "My Net.keras", data_url(good))[1]


def test_comparison_puts_both_models_side_by_side_and_cards_carry_both_maps():
    comparison = compare_reports(read_report(DEFAULT_MODEL_PATH), read_report(MODELS_DIR / "seed_cnn.h5"))
    table = comparison_table(comparison)
    head, body, foot = table.children
    assert [th.children for th in head.children.children] == ["digit", "F1 digit_cnn", f"F1 {SEED}"]
    assert len(body.children) == 10 and "98.91%" in str(foot)

    digit = comparison["only_one_right"][0]
    card = comparison_card(digit, {name: np.zeros((28, 28)) for name in comparison["models"]})
    assert isinstance(card, dcc.Link) and card.href == f"/?test={digit['index']}"
    images, caption = card.children.children
    assert [img.title for img in images.children] == comparison["models"]
    assert all(isinstance(img, html.Img) and img.src.startswith("data:image/png") for img in images.children)
    assert "✓" in caption.children and f"#{digit['index']}" in caption.children


def test_a_report_computed_on_first_use_shows_its_progress(dash_app, monkeypatch):
    from callbacks.evaluation import show_progress

    service = ModelService.of(dash_app.server)
    monkeypatch.setattr(service, "report_progress", lambda name: 0.4 if name == SEED else None)
    with dash_app.server.app_context():
        shown = show_progress(3, False, "digit_cnn", SEED)  # the compared model is being computed
        assert "Computing the evaluation report of seed_cnn" in str(shown) and "40%" in str(shown)
        assert show_progress(3, False, "digit_cnn", NO_COMPARISON) is None
        assert show_progress(3, True, SEED, None) is None  # the report callbacks are done


# --- in the browser -------------------------------------------------------------------------------------


@pytest.fixture
def browser(dash_duo, dash_app):
    dash_duo.start_server(dash_app, navigate=False, port=DASH_TEST_PORT)
    return dash_duo


def pick(dash_duo, dropdown_id: str, label: str) -> None:
    """Choose an option by its label, again while the menu's callback has not filled it in yet."""
    def picked() -> bool:
        if label not in dash_duo.find_element(f"#{dropdown_id}").text:
            # At once: the theme scrolls smoothly, and a click mid-scroll lands on whatever passes by.
            dash_duo.driver.execute_script(
                "document.getElementById(arguments[0]).scrollIntoView({block: 'center', behavior: 'instant'});",
                dropdown_id)
            dash_duo.select_dcc_dropdown(f"#{dropdown_id}", value=label)
        return label in dash_duo.find_element(f"#{dropdown_id}").text

    until(picked, timeout=TIMEOUT, msg=f"{dropdown_id} never showed {label}")


def text_of(dash_duo, element_id: str) -> str:
    """An element's text (also when only screen readers see it); "" while the page has not rendered it."""
    return dash_duo.driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.textContent : '';", element_id)


def layer_names(dash_duo) -> list[str]:
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(td => td.textContent);",
        f"#{ids.LAYERS_TABLE} td[data-dash-column='name']")


def test_the_model_menu_switches_every_page_to_the_original_apps_network(browser):
    dash_duo = browser
    open_page(dash_duo, "/layers")
    until(lambda: layer_names(dash_duo)[:1] == ["conv1"], timeout=TIMEOUT)
    assert not dash_duo.find_element(f"#{ids.MODEL_UPLOAD}").is_displayed()  # uploads are off by default

    pick(dash_duo, ids.MODEL_DROPDOWN, "seed_cnn (98.91%)")
    until(lambda: layer_names(dash_duo) == SEED_LAYERS, timeout=TIMEOUT, msg="the layers table kept digit_cnn")

    # The session keeps the model from page to page, and the evaluation page reports that model.
    dash_duo.find_element(f"#{ids.NAV} a[href='/evaluation']").click()
    until(lambda: "seed_cnn" in text_of(dash_duo, ids.METRICS_TABLE), timeout=TIMEOUT)
    assert "98.91%" in text_of(dash_duo, ids.METRICS_TABLE)
    assert "seed_cnn (98.91%)" in dash_duo.find_element(f"#{ids.MODEL_DROPDOWN}").text
    assert dash_duo.get_logs() == []


def test_comparing_shows_both_models_metrics_and_the_digits_only_one_reads(browser):
    dash_duo = browser
    open_page(dash_duo, "/evaluation")
    until(lambda: "digit_cnn" in text_of(dash_duo, ids.METRICS_TABLE), timeout=TIMEOUT)
    assert "Compare with" in text_of(dash_duo, ids.COMPARISON)  # none picked: a hint

    pick(dash_duo, ids.COMPARE_DROPDOWN, "seed_cnn (98.91%)")
    until(lambda: "F1 seed_cnn" in text_of(dash_duo, ids.COMPARISON), timeout=TIMEOUT)
    text = text_of(dash_duo, ids.COMPARISON)
    assert "F1 digit_cnn" in text and "98.91%" in text
    assert "digit_cnn reads right and seed_cnn does not" in text and "seed_cnn reads right and digit_cnn" in text
    cards = dash_duo.find_elements(f"#{ids.COMPARISON} a.sample")
    assert cards and cards[0].get_attribute("href").split("/")[-1].startswith("?test=")
    assert len(cards[0].find_elements("css selector", "img")) == 2
    assert dash_duo.get_logs() == []


def menu_label(dash_app, name: str) -> str:
    """A model's label in the model menus (its name and test accuracy)."""
    options = model_options(ModelService.of(dash_app.server).models_info())
    return next(option["label"] for option in options if option["value"] == name)


def test_the_predict_page_reads_with_the_session_model_and_sets_a_second_one_beside_it(browser, dash_app):
    dash_duo = browser
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.wait_for_page(dash_duo.server.url)
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Draw a digit", timeout=TIMEOUT)
    service = ModelService.of(dash_app.server)
    seed_layer = service.layer("conv4", SEED)  # digit_cnn's layer: seed_cnn's default (recommended) one instead
    assert seed_layer in SEED_LAYERS
    pick(dash_duo, ids.MODEL_DROPDOWN, menu_label(dash_app, SEED))
    until(lambda: seed_layer in dash_duo.find_element(f"#{ids.LAYER_DROPDOWN}").text, timeout=TIMEOUT,
          msg="the layer menu kept digit_cnn's layers")
    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)
    until(lambda: seed_layer in heatmap_title(dash_duo), timeout=TIMEOUT)
    assert not dash_duo.find_element(f"#{ids.COMPARE_PANEL}").is_displayed()  # nothing compared yet

    pick(dash_duo, ids.COMPARE_DROPDOWN, menu_label(dash_app, "digit_cnn"))
    dash_duo.wait_for_contains_text(f"#{ids.COMPARE_HEADING}", "digit_cnn reads it as 7", timeout=TIMEOUT)
    # The compared model explains at its own default layer (seed_cnn's layer is not one of its own).
    compared_title = f"digit_cnn: Grad-CAM for 7 at {service.layer(seed_layer, 'digit_cnn')}"
    until(lambda: compared_title in (figure(dash_duo, ids.COMPARE_MAP) or {})
          .get("layout", {}).get("title", {}).get("text", ""), timeout=TIMEOUT)
    assert int((figure(dash_duo, ids.COMPARE_TOP3) or {})["data"][0]["x"][0]) == 7
    assert seed_layer in heatmap_title(dash_duo)  # the session's model still answers first
    assert dash_duo.get_logs() == []
