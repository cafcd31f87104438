"""The README's screenshots (docs/*.png), taken in headless Chromium with the shipped model.

Not a check, so skipped unless asked for:
    DIGIT_INSPECTOR_SCREENSHOTS=1 DASH_TEST_CHROMEPATH=/usr/bin/chromium \\
        .venv/bin/python -m pytest --headless tests/test_browser_screenshots.py
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import DASH_TEST_PORT
from dash.testing.wait import until
from test_browser import SEVEN, TIMEOUT, click_plot, draw, figure, wait_for_reading
from test_browser_models import pick

from layouts import ids
from models import DEFAULT_MODEL_PATH
from models.report import read_report

DOCS = Path(__file__).resolve().parents[1] / "docs"

pytestmark = pytest.mark.skipif(os.environ.get("DIGIT_INSPECTOR_SCREENSHOTS") != "1",
                                reason="makes the README screenshots: set DIGIT_INSPECTOR_SCREENSHOTS=1")


def test_screenshots(dash_duo, dash_app):
    dash_duo.driver.set_window_size(1400, 900)
    dash_duo.start_server(dash_app, port=DASH_TEST_PORT)
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Draw a digit", timeout=TIMEOUT)
    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)
    dash_duo.driver.save_screenshot(str(DOCS / "predict.png"))
    dash_duo.driver.set_window_size(390, 2700)
    until(lambda: dash_duo.driver.execute_script("return window.innerWidth") == 390, timeout=TIMEOUT)
    until(lambda: dash_duo.driver.execute_script(
        f"return document.querySelector('#{ids.TOP3_CHART} .main-svg').getBoundingClientRect().width < 390;"),
        timeout=TIMEOUT)  # the figures have followed the window
    until(lambda: dash_duo.driver.execute_script(
        f"const box = document.getElementById('{ids.CANVAS}').getBoundingClientRect();"
        f"const plot = document.querySelector('#{ids.CANVAS} .main-svg').getBoundingClientRect();"
        "return Math.abs(plot.height - box.height) < 4;"), timeout=TIMEOUT)  # the canvas too (plotly resizes later)
    dash_duo.driver.save_screenshot(str(DOCS / "predict-phone.png"))
    dash_duo.driver.set_window_size(1400, 900)

    dash_duo.find_element(f"#{ids.NAV} a[href='/layers']").click()
    dash_duo.wait_for_contains_text(f"#{ids.LAYERS_TABLE}", "conv3", timeout=TIMEOUT)
    dash_duo.find_elements(f"#{ids.LAYERS_TABLE} tbody tr")[4].find_element("css selector", "td").click()
    until(lambda: "conv4" in str(figure(dash_duo, ids.FEATURE_MAPS)["layout"].get("title")), timeout=TIMEOUT)
    dash_duo.driver.set_window_size(1400, 900)
    dash_duo.driver.save_screenshot(str(DOCS / "layers.png"))

    matrix = np.array(read_report(DEFAULT_MODEL_PATH)["confusion_matrix"])
    np.fill_diagonal(matrix, 0)
    true, predicted = np.unravel_index(matrix.argmax(), matrix.shape)
    dash_duo.driver.set_window_size(1400, 1100)
    dash_duo.find_element(f"#{ids.NAV} a[href='/evaluation']").click()
    dash_duo.wait_for_contains_text(f"#{ids.METRICS_TABLE}", "accuracy", timeout=TIMEOUT)
    click_plot(dash_duo, ids.CONFUSION_MATRIX, int(predicted), int(true))
    dash_duo.wait_for_element(f"#{ids.MISCLASSIFIED_GALLERY} .sample img", timeout=TIMEOUT)
    dash_duo.driver.save_screenshot(str(DOCS / "evaluation.png"))
    assert dash_duo.get_logs() == []


def test_phone_screenshot(dash_duo, dash_app):
    """The evaluation page on a 390 px phone, its menu folded, a mistake's digits below the matrix."""
    matrix = np.array(read_report(DEFAULT_MODEL_PATH)["confusion_matrix"])
    np.fill_diagonal(matrix, 0)
    true, predicted = np.unravel_index(matrix.argmax(), matrix.shape)
    dash_duo.driver.set_window_size(390, 1500)
    dash_duo.start_server(dash_app, navigate=False, port=DASH_TEST_PORT)
    dash_duo.wait_for_page(dash_duo.server.url + "/evaluation")
    dash_duo.wait_for_contains_text(f"#{ids.METRICS_TABLE}", "accuracy", timeout=TIMEOUT)
    click_plot(dash_duo, ids.CONFUSION_MATRIX, int(predicted), int(true))
    dash_duo.wait_for_element(f"#{ids.MISCLASSIFIED_GALLERY} .sample img", timeout=TIMEOUT)
    dash_duo.driver.save_screenshot(str(DOCS / "evaluation-phone.png"))
    assert dash_duo.get_logs() == []


def test_comparison_screenshot(dash_duo, dash_app):
    """The evaluation page comparing the shipped CNN with the original app's network (seed_cnn)."""
    dash_duo.driver.set_window_size(1400, 1600)
    dash_duo.start_server(dash_app, navigate=False, port=DASH_TEST_PORT)
    dash_duo.wait_for_page(dash_duo.server.url + "/evaluation")
    dash_duo.wait_for_contains_text(f"#{ids.METRICS_TABLE}", "accuracy", timeout=TIMEOUT)
    pick(dash_duo, ids.COMPARE_DROPDOWN, "seed_cnn (98.91%)")
    dash_duo.wait_for_element(f"#{ids.COMPARISON} .sample img", timeout=TIMEOUT)
    # The section, with the menu above it, as one picture taller than the window (Chromium draws beyond it).
    box = dash_duo.driver.execute_script(
        "const top = document.getElementById(arguments[0]).getBoundingClientRect();"
        "const end = document.getElementById(arguments[1]).getBoundingClientRect();"
        "return {x: top.left + scrollX - 8, y: top.top + scrollY - 8, width: end.right - top.left + 16,"
        "        height: end.bottom - top.top + 16, scale: 1};",
        ids.COMPARE_DROPDOWN, ids.COMPARISON)
    box["x"] = 0
    box["width"] = dash_duo.driver.execute_script("return document.documentElement.clientWidth;")
    png = dash_duo.driver.execute_cdp_cmd("Page.captureScreenshot", {"clip": box, "captureBeyondViewport": True})
    (DOCS / "compare.png").write_bytes(base64.b64decode(png["data"]))
    assert dash_duo.get_logs() == []
