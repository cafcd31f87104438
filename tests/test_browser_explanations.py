"""The explanations page and the report download, in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DASH_TEST_PORT
from dash.testing.wait import until
from test_browser import SEVEN, TIMEOUT, draw, figure, heatmap_title, wait_for_reading

from layouts import ids
from models import DEFAULT_MODEL_PATH
from models.methods import METHOD_NAMES
from models.report import read_report


@pytest.fixture
def browser(dash_duo, dash_app):
    """As test_browser's app_browser: the app's server, a desktop-sized window, no page yet."""
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.start_server(dash_app, navigate=False, port=DASH_TEST_PORT)
    return dash_duo


def test_explanations_page_shows_the_scoreboard_and_what_it_recommends(browser):
    dash_duo = browser
    section = read_report(DEFAULT_MODEL_PATH)["explanations"]
    dash_duo.wait_for_page(dash_duo.server.url + "/explanations")
    dash_duo.wait_for_contains_text(f"#{ids.RECOMMENDATION}", "On this model", timeout=TIMEOUT)
    assert len(dash_duo.find_elements("h1")) == 1
    until(lambda: (figure(dash_duo, ids.METHOD_SCOREBOARD) or {}).get("data"), timeout=TIMEOUT)
    grid = figure(dash_duo, ids.METHOD_SCOREBOARD)["data"][0]
    layers = sorted({row["layer"] for row in section["rows"] if row["layer"]})
    assert grid["type"] == "heatmap" and grid["x"][:-1] == layers and "Integrated Gradients" in grid["y"]
    until(lambda: (figure(dash_duo, ids.SANITY_FIGURE) or {}).get("data"), timeout=TIMEOUT)
    assert len(figure(dash_duo, ids.SANITY_FIGURE)["data"]) == len({row["method"] for row in section["rows"]})
    assert "most faithful first" in dash_duo.find_element(f"#{ids.METHOD_SCOREBOARD_TEXT}").get_attribute("textContent")
    novelty = read_report(DEFAULT_MODEL_PATH)["novelty"]  # the not-a-digit scoreboard, on the same page
    dash_duo.wait_for_contains_text(f"#{ids.NOVELTY_ADVICE}", "On this model the app uses", timeout=TIMEOUT)
    until(lambda: (figure(dash_duo, ids.NOVELTY_SCOREBOARD) or {}).get("data"), timeout=TIMEOUT)
    flagged, wrong = figure(dash_duo, ids.NOVELTY_SCOREBOARD)["data"]
    assert len(flagged["y"]) == len(novelty["detectors"]) and "letters" in flagged["x"] and "mnist-c" in wrong["x"]
    assert dash_duo.get_logs() == []


def test_report_download_saves_one_html_file_that_opens_offline(browser):
    dash_duo = browser
    dash_duo.wait_for_page(dash_duo.server.url + "/evaluation")
    dash_duo.wait_for_contains_text(f"#{ids.METRICS_TABLE}", "accuracy", timeout=TIMEOUT)
    dash_duo.find_element(f"#{ids.REPORT_DOWNLOAD}").click()
    folder = Path(dash_duo.download_path)
    until(lambda: [p for p in folder.glob("*.html")], timeout=TIMEOUT)
    (saved,) = folder.glob("*.html")
    until(lambda: not list(folder.glob("*.crdownload")), timeout=TIMEOUT)
    text = saved.read_text()
    assert "A sample of mistakes" in text and "data:image/png;base64," in text
    dash_duo.server.stop()  # the file must draw its charts with no server behind it
    dash_duo.driver.get(saved.as_uri())
    until(lambda: len(dash_duo.find_elements(".js-plotly-plot .main-svg")) >= 4, timeout=TIMEOUT)
    assert dash_duo.find_element("h1").text.startswith("Digit Inspector: evaluation report")


def test_predict_page_shows_a_pixel_level_method_without_a_layer(browser):
    dash_duo = browser
    dash_duo.wait_for_page(dash_duo.server.url)
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Draw a digit", timeout=TIMEOUT)
    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)
    dash_duo.select_dcc_dropdown(f"#{ids.METHOD_DROPDOWN}",
                                 index=METHOD_NAMES.index("integrated_gradients"))  # labels carry scores
    until(lambda: heatmap_title(dash_duo) == "Integrated Gradients for 7", timeout=TIMEOUT)  # no "at layer"
    assert "deletion AUC" in dash_duo.find_element(f"#{ids.FAITHFULNESS}").text
    assert dash_duo.get_logs() == []
