"""The predict page as real people use it (issue 9): strokes on old ink, taps, small digits, fingers,
examples and test digits, uploads of any size, downloads, keyboard and narrow screens."""
# ruff: noqa: F811  (the tests take the fixtures imported from test_browser by name)

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import numpy as np
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from test_browser import (  # noqa: F401  (fixtures, shared with the other browser tests)
    SEVEN,
    TIMEOUT,
    app_browser,
    canvas_area,
    canvas_strokes,
    draw,
    figure,
    heatmap_grid,
    heatmap_title,
    predict_page,
    top_digit,
    wait_for_reading,
)

from layouts import ids
from models.methods import METHOD_NAMES


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float,
        points: int = 16) -> list[tuple[int, int]]:
    """Points along an ellipse, angles in degrees, y down (canvas units)."""
    return [(round(cx + rx * math.cos(math.radians(a))), round(cy + ry * math.sin(math.radians(a))))
            for a in np.linspace(start, end, points)]


# Each drawing's second stroke starts on (or crosses) the ink of the first.
NINE = [arc(140, 90, 50, 45, 0, 360), [(190, 90), (185, 170), (175, 250)]]  # loop, then a stem from the loop
FIVE = [[(100, 70), (95, 140), *arc(135, 185, 55, 55, -135, 150)], [(100, 70), (195, 70)]]  # body, then the bar
FOUR = [[(160, 40), (80, 170), (215, 170)], [(175, 40), (170, 250)]]  # two crossing strokes
EIGHT = [arc(140, 85, 42, 42, 90, 450), arc(140, 180, 52, 52, -90, 270)]  # two loops meeting
# About 50 units (18 % of the canvas) tall, in a corner.
SMALL_THREE = [arc(42, 37, 20, 14, -160, 90, 10), arc(42, 64, 22, 13, -90, 160, 10)]
SMALL_TWO = [[*arc(235, 222, 20, 16, -170, 40, 10), (215, 262)], [(215, 262), (262, 262)]]


def status(dash_duo) -> str:
    return dash_duo.find_element(f"#{ids.STATUS}").text


def stored_strokes(dash_duo) -> list[str]:
    return json.loads(dash_duo.driver.execute_script(f"return sessionStorage.getItem('{ids.STROKES}')") or "[]")


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb(r, g, b)`` colours."""
    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def clear(dash_duo) -> None:
    dash_duo.find_element(f"#{ids.CLEAR_BUTTON}").click()
    until(lambda: canvas_strokes(dash_duo) == 0 and "Draw a digit" in status(dash_duo), timeout=TIMEOUT)


OLD_INK = {"nine-stem-from-loop": (9, NINE), "five-bar-from-body": (5, FIVE), "four-crossing": (4, FOUR),
           "eight-two-loops": (8, EIGHT), "small-three-corner": (3, SMALL_THREE), "small-two-corner": (2, SMALL_TWO)}


def test_every_stroke_counts_even_on_old_ink(predict_page):
    """Digits whose later strokes start on earlier ink, one after another on one page (cleared between)."""
    dash_duo = predict_page
    for name, (digit, strokes) in OLD_INK.items():
        draw(dash_duo, strokes)
        until(lambda strokes=strokes: canvas_strokes(dash_duo) == len(strokes), timeout=TIMEOUT)
        wait_for_reading(dash_duo, digit)
        assert len(stored_strokes(dash_duo)) == len(strokes), name
        clear(dash_duo)
    assert dash_duo.get_logs() == []


def test_a_tap_leaves_a_dot_and_a_fast_stroke_is_kept(predict_page):
    dash_duo = predict_page
    canvas = canvas_area(dash_duo)  # offsets below are pixels from its centre
    # A stroke in one instant move (no points between its ends), then a tap on it.
    ActionChains(dash_duo.driver, duration=0).move_to_element(canvas).move_by_offset(0, -100).click_and_hold() \
        .move_by_offset(0, 200).release().perform()
    until(lambda: canvas_strokes(dash_duo) == 1, timeout=TIMEOUT)
    wait_for_reading(dash_duo, 1)
    ActionChains(dash_duo.driver).move_to_element(canvas).click().perform()
    until(lambda: canvas_strokes(dash_duo) == 2, timeout=TIMEOUT)
    dot = stored_strokes(dash_duo)[1]
    start, end = dot[1:].split("L")
    assert start == end  # a zero-length line: drawn (and rasterised) as a round dot
    assert dash_duo.get_logs() == []


def test_same_stroke_after_clear_counts_and_pen_width_redraws(predict_page):
    dash_duo = predict_page
    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)
    clear(dash_duo)
    draw(dash_duo, SEVEN)
    until(lambda: canvas_strokes(dash_duo) == 1, timeout=TIMEOUT)
    wait_for_reading(dash_duo, 7)

    dash_duo.find_element(f"#{ids.PEN_WIDTH} [role=slider]").send_keys(Keys.END)  # the thickest pen
    until(lambda: figure(dash_duo, ids.CANVAS)["layout"]["shapes"][0]["line"]["width"] == 40, timeout=TIMEOUT)
    wait_for_reading(dash_duo, 7)
    draw(dash_duo, [[(40, 250), (60, 250)]])  # a new stroke takes the new pen
    until(lambda: canvas_strokes(dash_duo) == 2, timeout=TIMEOUT)
    assert figure(dash_duo, ids.CANVAS)["layout"]["shapes"][1]["line"]["width"] == 40
    assert dash_duo.get_logs() == []


def test_a_finger_draws_without_scrolling_the_page(app_browser):
    dash_duo = app_browser
    dash_duo.driver.set_window_size(390, 844)
    dash_duo.wait_for_page(dash_duo.server.url)
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Draw a digit", timeout=TIMEOUT)
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
    canvas_area(dash_duo)
    driver.execute_script(f"document.querySelector('#{ids.CANVAS}')"
                          ".scrollIntoView({block: 'center', behavior: 'instant'});")
    left, top = driver.execute_script(
        f"const r = document.querySelector('#{ids.CANVAS} .nsewdrag').getBoundingClientRect(); return [r.left, r.top];")
    scrolled = driver.execute_script("return window.scrollY;")
    finger = [("touchStart", 140, 40), *[("touchMove", 140, y) for y in range(50, 250, 10)]]
    for kind, x, y in finger:
        touch = {"type": kind, "touchPoints": [{"x": left + x, "y": top + y}]}
        driver.execute_cdp_cmd("Input.dispatchTouchEvent", touch)
    driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    until(lambda: canvas_strokes(dash_duo) == 1, timeout=TIMEOUT)
    wait_for_reading(dash_duo, 1)
    assert driver.execute_script("return window.scrollY;") == scrolled
    assert dash_duo.get_logs() == []


def test_an_empty_map_gives_way_to_one_with_evidence(app_browser, mnist_test):
    dash_duo = app_browser
    x, y = mnist_test
    dash_duo.wait_for_page(dash_duo.server.url + "/?test=1")  # a 2 whose Grad-CAM map at conv3 is empty
    wait_for_reading(dash_duo, int(y[1]))
    dash_duo.select_dcc_dropdown(f"#{ids.METHOD_DROPDOWN}", index=METHOD_NAMES.index("gradcam"))  # not the default
    dash_duo.select_dcc_dropdown(f"#{ids.LAYER_DROPDOWN}", index=2)  # conv3
    until(lambda: "found no evidence" in status(dash_duo), timeout=TIMEOUT)
    assert f"for digit {y[1]} at layer conv3, so the map shown is Grad-CAM at layer conv4" in status(dash_duo)
    assert heatmap_grid(dash_duo, ids.GRADCAM_FIGURE).max() > 0
    assert "conv4" in heatmap_title(dash_duo)
    assert dash_duo.get_logs() == []


def test_test_digit_opens_from_its_url_and_from_the_examples(app_browser, mnist_test):
    dash_duo = app_browser
    x, y = mnist_test
    dash_duo.wait_for_page(dash_duo.server.url + "/?test=1")
    dash_duo.wait_for_contains_text(f"#{ids.SOURCE_PANEL}", "MNIST test digit #1", timeout=TIMEOUT)
    wait_for_reading(dash_duo, int(y[1]))
    model_input = heatmap_grid(dash_duo, ids.MODEL_INPUT)
    np.testing.assert_allclose(model_input, x[1] / 255.0, atol=0.005)  # read as the test digit is (in whole %)

    examples = dash_duo.find_elements(f"#{ids.EXAMPLE_DIGITS} a")
    assert len(examples) == 10
    examples[7].click()  # the first 7 of the test set
    dash_duo.wait_for_contains_text(f"#{ids.SOURCE_PANEL}", "labelled 7", timeout=TIMEOUT)
    wait_for_reading(dash_duo, 7)

    dash_duo.find_element(f"#{ids.REMOVE_BUTTON}").click()
    until(lambda: "Draw a digit" in status(dash_duo), timeout=TIMEOUT)
    assert dash_duo.find_element(f"#{ids.CANVAS}").is_displayed()

    dash_duo.wait_for_page(dash_duo.server.url + "/?test=12345")
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "There is no MNIST test digit 12345", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []


def test_upload_is_shown_survives_other_pages_and_oversize_is_refused(predict_page, mnist_test, tmp_path):
    from PIL import Image

    dash_duo = predict_page
    x, y = mnist_test
    digit = tmp_path / "my-digit.png"
    Image.fromarray(255 - x[3]).resize((200, 200), Image.BICUBIC).save(digit)
    upload = dash_duo.find_element(f"#{ids.UPLOAD} input[type=file]")
    upload.send_keys(str(digit))
    wait_for_reading(dash_duo, int(y[3]))
    dash_duo.wait_for_contains_text(f"#{ids.SOURCE_PANEL}", "my-digit.png", timeout=TIMEOUT)
    assert not dash_duo.find_element(f"#{ids.CANVAS}").is_displayed()

    dash_duo.find_element(f"#{ids.NAV} a[href='/layers']").click()
    dash_duo.wait_for_element(f"#{ids.LAYERS_TABLE}", timeout=TIMEOUT)
    dash_duo.find_element(f"#{ids.NAV} a[href='/']").click()
    dash_duo.wait_for_contains_text(f"#{ids.SOURCE_PANEL}", "my-digit.png", timeout=TIMEOUT)
    wait_for_reading(dash_duo, int(y[3]))

    for megabytes in (20, 200):
        big = tmp_path / f"big-{megabytes}.png"
        with open(big, "wb") as file:
            file.truncate(megabytes * 1000 * 1000)  # sparse: no 200 MB written to disk
        started = time.monotonic()
        dash_duo.find_element(f"#{ids.UPLOAD} input[type=file]").send_keys(str(big))
        dash_duo.wait_for_contains_text(f"#{ids.STATUS}", f"The file is {megabytes:.1f} MB, over the 8.4 MB limit",
                                        timeout=TIMEOUT)
        assert time.monotonic() - started < TIMEOUT
        assert top_digit(dash_duo) is None  # the previous answer is gone
    assert dash_duo.get_logs() == []


def test_download_gives_the_prediction_json_and_the_map_png(predict_page):
    dash_duo = predict_page
    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)
    dash_duo.find_element(f"#{ids.DOWNLOAD_BUTTON}").click()
    folder = Path(dash_duo.download_path)
    until(lambda: {p.suffix for p in folder.iterdir()} >= {".json", ".png"}, timeout=TIMEOUT)
    prediction = json.loads(next(folder.glob("*.json")).read_text())
    assert prediction["top"][0]["digit"] == 7 and len(prediction["explanation"]["heatmap"]) == 28
    assert next(folder.glob("*.png")).read_bytes().startswith(b"\x89PNG")


def test_class_to_explain_is_chosen_from_the_keyboard(predict_page):
    dash_duo = predict_page
    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)
    runner_up = figure(dash_duo, ids.TOP3_CHART)["data"][0]["x"][1]
    checked = dash_duo.find_element(f"#{ids.EXPLAIN_CLASS} input:checked")
    checked.send_keys(Keys.ARROW_RIGHT)  # radio buttons: the arrow keys move the choice
    until(lambda: f"for {runner_up} at" in heatmap_title(dash_duo), timeout=TIMEOUT)
    assert top_digit(dash_duo) == 7
    assert "Top 3: 7" in dash_duo.find_element(f"#{ids.TOP3_SUMMARY}").get_attribute("textContent")
    assert dash_duo.get_logs() == []


def test_no_sideways_scrolling_and_one_h1(app_browser):
    """A phone, a tablet and a small laptop: one page load and one reading, the window resized under it."""
    dash_duo = app_browser
    dash_duo.driver.set_window_size(390, 900)
    dash_duo.wait_for_page(dash_duo.server.url)
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Draw a digit", timeout=TIMEOUT)
    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)
    for width in (390, 768, 1024):
        dash_duo.driver.set_window_size(width, 900)
        overflow = dash_duo.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        assert overflow <= 0, width
        assert len(dash_duo.find_elements("h1")) == 1
        heatmap_width = dash_duo.driver.execute_script(
            f"return document.querySelector('#{ids.GRADCAM_FIGURE} .pixel-map-frame').getBoundingClientRect().width;")
        assert heatmap_width >= 200, width  # a map you can read, on a phone too
    for colour in ("success", "warning", "danger", "info"):  # every status colour, with its text
        foreground, background = dash_duo.driver.execute_script(
            f"const s = document.getElementById('{ids.STATUS}'); s.className = 'status alert alert-{colour}';"
            "const style = getComputedStyle(s); return [style.color, style.backgroundColor];")
        assert contrast(foreground, background) >= 4.5, colour
