"""The real pages in headless Chromium (dash[testing]): draw, upload, pick layers, click cells, read."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
from conftest import DASH_TEST_PORT
from dash.testing.wait import until
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from layouts import ids
from models import DEFAULT_MODEL_PATH
from models.methods import METHOD_NAMES
from models.report import read_report

ONE = [[(140, 40), (140, 240)]]
SEVEN = [[(70, 60), (210, 60), (120, 240)]]
STRAY = [[(30, 250), (60, 250)]]
TIMEOUT = 30  # the first prediction compiles the explanation functions


def canvas_area(dash_duo):
    """The canvas's plot area, once plotly has laid it out.

    The status line can say "Draw a digit" before plotly.js (loaded lazily, in a fresh browser for
    every test) has drawn the canvas: a press before that lands on nothing.
    """
    until(lambda: dash_duo.driver.execute_script(
        f"const area = document.querySelector('#{ids.CANVAS} .nsewdrag');"
        "return !!area && area.getBoundingClientRect().width > 0;"), timeout=TIMEOUT)
    return dash_duo.find_element(f"#{ids.CANVAS} .nsewdrag")


def canvas_to_screen(dash_duo):
    """Where a canvas point lands on the screen, from the plot's own axes: a function from canvas units
    (x 0-560, y 0-280, y down: the figure's data coordinates) to pixel offsets from the plot area's centre.
    A unit is a pixel only where the canvas is shown at full size; on a narrower screen it is less."""
    canvas_area(dash_duo)
    until(lambda: dash_duo.driver.execute_script(
        f"const gd = document.querySelector('#{ids.CANVAS} .js-plotly-plot');"
        "const l = gd && gd._fullLayout; return !!(l && l.xaxis && l.xaxis._length > 0 && l.yaxis._length > 0);"),
        timeout=TIMEOUT)
    x0, x1, y0, y1, width, height = dash_duo.driver.execute_script(
        f"const l = document.querySelector('#{ids.CANVAS} .js-plotly-plot')._fullLayout;"
        "return [l.xaxis.d2p(0), l.xaxis.d2p(1), l.yaxis.d2p(0), l.yaxis.d2p(1), l.xaxis._length, l.yaxis._length];")
    return lambda x, y: (x0 + (x1 - x0) * x - width / 2, y0 + (y1 - y0) * y - height / 2)


def draw(dash_duo, strokes: list[list[tuple[int, int]]]) -> None:
    """Draw each stroke (canvas points, x 0-560, y 0-280, y down) with the mouse: press, move in small
    steps (about 8 px), release. Points go through the plot's axes, so a drawing means the same on any screen."""
    canvas = canvas_area(dash_duo)
    to_screen = canvas_to_screen(dash_duo)
    for stroke in strokes:
        x, y = to_screen(*stroke[0])
        at = (round(x), round(y))
        actions = ActionChains(dash_duo.driver).move_to_element(canvas)  # the element's centre
        actions.move_by_offset(*at).click_and_hold()
        for point in stroke[1:]:
            nx, ny = to_screen(*point)
            steps = max(1, int(max(abs(nx - x), abs(ny - y)) // 8))
            for i in range(1, steps + 1):
                step = (round(x + (nx - x) * i / steps), round(y + (ny - y) * i / steps))
                actions.move_by_offset(step[0] - at[0], step[1] - at[1])
                at = step
            x, y = nx, ny
        actions.release().perform()


def figure(dash_duo, graph_id: str) -> dict:
    """The figure plotly is showing in a dcc.Graph (data and layout, as JSON)."""
    return dash_duo.driver.execute_script(
        f"const gd = document.querySelector('#{graph_id} .js-plotly-plot');"
        "return gd && gd.data ? JSON.parse(JSON.stringify({data: gd.data, layout: gd.layout})) : null;")


def as_array(value) -> np.ndarray:
    """A plotly data array: a list, or plotly.py's base64 encoding of a NumPy array."""
    if isinstance(value, dict):
        shape = [int(d) for d in str(value.get("shape", "-1")).split(",")]
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape)
    return np.asarray(value)


def heatmap_grid(dash_duo, map_id: str) -> np.ndarray:
    """A map's grid in [0, 1]: ``gradcam-figure``'s explanation from its ``data-grid`` (the cells' whole
    percents in base64), ``model-input``'s digit from its picture (grey levels: whole percents of ink)."""
    grid, src = dash_duo.driver.execute_script(
        f"const frame = document.querySelector('#{map_id} .pixel-map-frame');"
        "return frame ? [frame.dataset.grid || null, frame.querySelector('img').src] : [null, null];")
    if grid:
        return np.frombuffer(base64.b64decode(grid), dtype=np.uint8).reshape(28, 28) / 100
    picture = Image.open(io.BytesIO(base64.b64decode(src.partition(",")[2])))
    return np.rint(np.asarray(picture.convert("L"), dtype=np.float64) / 2.55) / 100


def top_digit(dash_duo) -> int | None:
    fig = figure(dash_duo, ids.TOP3_CHART)
    if not fig or not fig["data"]:
        return None
    return int(fig["data"][0]["x"][0])


def heatmap_title(dash_duo) -> str:
    return dash_duo.driver.execute_script(
        f"const title = document.querySelector('#{ids.GRADCAM_FIGURE} .pixel-map-title');"
        "return title ? title.textContent : '';")


def overlay_opacity(dash_duo) -> float:
    """The map's opacity over the digit, as the browser shows it."""
    return float(dash_duo.driver.execute_script(
        f"return getComputedStyle(document.querySelector('#{ids.GRADCAM_FIGURE} .pixel-map-overlay')).opacity;"))


def wait_for_reading(dash_duo, digit: int) -> None:
    """Until the pen-up answer reads ``digit``: the live reading's top 3 (assets/live.js) shows it while
    the pen moves, before the status and the map say it."""
    def read() -> bool:
        status = dash_duo.find_element("#" + ids.STATUS).text
        return top_digit(dash_duo) == digit and (f"Read as {digit} (" in status or f"closest is {digit} (" in status)

    until(read, timeout=TIMEOUT,
          msg=f"top3-chart never showed {digit}; status: {dash_duo.find_element('#' + ids.STATUS).text}")


def plotted(dash_duo, graph_id: str) -> bool:
    """Whether plotly has drawn a figure with data in the graph, its plot area laid out."""
    return bool(dash_duo.driver.execute_script(
        f"const gd = document.querySelector('#{graph_id} .js-plotly-plot');"
        f"const area = document.querySelector('#{graph_id} .nsewdrag');"
        "return gd && gd.data && gd.data.length > 0 && area && gd._fullLayout.xaxis"
        " && Math.abs(area.getBoundingClientRect().width - gd._fullLayout.xaxis._length) < 1;"))


def click_plot(dash_duo, graph_id: str, x, y) -> None:
    """Click a graph with the mouse at data coordinates (x, y), once plotly has drawn it.

    The other outputs of the graph's callback can be on the page well before its figure is:
    plotly.js is loaded lazily (5 MB, in a fresh browser for every test), and a click before the
    figure is drawn lands on nothing.
    """
    until(lambda: plotted(dash_duo, graph_id), timeout=TIMEOUT, msg=f"{graph_id} was never drawn")
    offset = dash_duo.driver.execute_script(
        f"const gd = document.querySelector('#{graph_id} .js-plotly-plot');"
        f"const [x, y] = {json.dumps([x, y])}; const l = gd._fullLayout;"
        "return [l.xaxis.d2p(x) - l.xaxis._length / 2, l.yaxis.d2p(y) - l.yaxis._length / 2];")
    plot_area = dash_duo.find_element(f"#{graph_id} .nsewdrag")
    ActionChains(dash_duo.driver).move_to_element(plot_area).move_by_offset(*map(round, offset)).click().perform()


def canvas_strokes(dash_duo) -> int:
    return len(figure(dash_duo, ids.CANVAS)["layout"].get("shapes", []))


@pytest.fixture
def app_browser(dash_duo, dash_app):
    """dash_duo on the app's server, in a desktop-sized window, not yet on any page."""
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.start_server(dash_app, navigate=False, port=DASH_TEST_PORT)
    return dash_duo


@pytest.fixture
def predict_page(app_browser):
    dash_duo = app_browser
    dash_duo.wait_for_page(dash_duo.server.url)
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Draw a digit", timeout=TIMEOUT)
    return dash_duo


def test_drawn_one_and_seven_are_read(predict_page):
    dash_duo = predict_page
    draw(dash_duo, ONE)
    wait_for_reading(dash_duo, 1)
    assert "Read as 1" in dash_duo.find_element(f"#{ids.STATUS}").text
    model_input = heatmap_grid(dash_duo, ids.MODEL_INPUT)
    assert model_input.shape == (28, 28) and model_input.max() > 0.9  # the digit the model saw

    dash_duo.find_element(f"#{ids.CLEAR_BUTTON}").click()
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Draw a digit", timeout=TIMEOUT)
    assert canvas_strokes(dash_duo) == 0

    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)
    heatmap = heatmap_grid(dash_duo, ids.GRADCAM_FIGURE)
    assert heatmap.shape == (28, 28) and heatmap.max() == pytest.approx(1.0)
    assert dash_duo.get_logs() == []


def test_undo_removes_the_last_stroke(predict_page):
    dash_duo = predict_page
    draw(dash_duo, SEVEN + STRAY)
    until(lambda: canvas_strokes(dash_duo) == 2, timeout=TIMEOUT)
    dash_duo.find_element(f"#{ids.UNDO_BUTTON}").click()
    until(lambda: canvas_strokes(dash_duo) == 1, timeout=TIMEOUT)
    wait_for_reading(dash_duo, 7)
    assert dash_duo.get_logs() == []


def test_uploaded_image_is_read_and_junk_gets_a_message(predict_page, mnist_test, tmp_path):
    dash_duo = predict_page
    x, y = mnist_test
    digit = tmp_path / "digit.png"
    Image.fromarray(255 - x[1]).resize((200, 200), Image.BICUBIC).save(digit)  # dark ink on white paper
    junk = tmp_path / "junk.png"
    junk.write_text("this is not a picture")
    upload = dash_duo.find_element(f"#{ids.UPLOAD} input[type=file]")

    upload.send_keys(str(junk))
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "not an image", timeout=TIMEOUT)

    upload.send_keys(str(digit))
    wait_for_reading(dash_duo, int(y[1]))
    assert dash_duo.get_logs() == []


def test_switching_layer_changes_the_heatmap(predict_page):
    dash_duo = predict_page
    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)
    until(lambda: " at conv" in heatmap_title(dash_duo), timeout=TIMEOUT)  # the recommended layer by default
    shown = heatmap_title(dash_duo).rsplit(" at ", 1)[1]
    before = heatmap_grid(dash_duo, ids.GRADCAM_FIGURE)

    other = "conv2" if shown != "conv2" else "conv4"
    dash_duo.select_dcc_dropdown(f"#{ids.LAYER_DROPDOWN}", index=int(other[-1]) - 1)
    until(lambda: heatmap_title(dash_duo).endswith(f" at {other}"), timeout=TIMEOUT)
    after = heatmap_grid(dash_duo, ids.GRADCAM_FIGURE)
    assert after.shape == before.shape == (28, 28)
    assert np.abs(after - before).mean() > 0.02
    assert dash_duo.get_logs() == []


def test_clicking_a_bar_explains_that_digit_and_methods_switch(predict_page):
    dash_duo = predict_page
    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)
    runner_up = figure(dash_duo, ids.TOP3_CHART)["data"][0]["x"][1]
    # On a category axis plotly reads a number as a position, and the digits' labels are numbers:
    # click the second column by its position (1), whatever digit it shows.
    click_plot(dash_duo, ids.TOP3_CHART, 1, 0.5)
    until(lambda: f"for {runner_up} at" in heatmap_title(dash_duo), timeout=TIMEOUT)
    assert f"for digit {runner_up}" in dash_duo.find_element(f"#{ids.STATUS}").text
    assert top_digit(dash_duo) == 7  # still read as 7: only the explanation changed

    click_plot(dash_duo, ids.TOP3_CHART, 0, 0.5)  # back to the 7: the chosen digit stays when the method changes
    until(lambda: "for 7 at" in heatmap_title(dash_duo), timeout=TIMEOUT)
    # The menu's labels carry each method's score, and the default is the recommended method (Score-CAM here)
    dash_duo.select_dcc_dropdown(f"#{ids.METHOD_DROPDOWN}", index=METHOD_NAMES.index("gradcam"))
    until(lambda: heatmap_title(dash_duo).startswith("Grad-CAM for 7"), timeout=TIMEOUT)
    assert "deletion AUC" in dash_duo.find_element(f"#{ids.FAITHFULNESS}").text
    assert dash_duo.get_logs() == []


def test_opacity_slider_changes_only_the_overlay(predict_page):
    dash_duo = predict_page
    draw(dash_duo, ONE)
    wait_for_reading(dash_duo, 1)
    until(lambda: overlay_opacity(dash_duo) == 0.5, timeout=TIMEOUT)
    digit = heatmap_grid(dash_duo, ids.GRADCAM_FIGURE)
    dash_duo.find_element(f"#{ids.OPACITY_SLIDER} [role=slider]").send_keys(Keys.END)  # slide to 1
    until(lambda: overlay_opacity(dash_duo) > 0.9, timeout=TIMEOUT)
    np.testing.assert_array_equal(heatmap_grid(dash_duo, ids.GRADCAM_FIGURE), digit)  # the same map, no request
    assert dash_duo.get_logs() == []


def test_layer_chosen_on_layers_page_is_the_predict_target(predict_page):
    dash_duo = predict_page
    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)

    dash_duo.find_element(f"#{ids.NAV} a[href='/layers']").click()
    dash_duo.wait_for_contains_text(f"#{ids.LAYERS_TABLE}", "conv3", timeout=TIMEOUT)
    rows = dash_duo.find_elements(f"#{ids.LAYERS_TABLE} tbody tr")
    assert [r.text.split()[0] for r in rows[1:]] == ["conv1", "conv2", "conv3", "conv4"]  # row 0: header
    rows[3].find_element("css selector", "td").click()  # conv3
    until(lambda: "conv3" in (figure(dash_duo, ids.FEATURE_MAPS) or {}).get("layout", {}).get("title", {})
          .get("text", ""), timeout=TIMEOUT)  # the activations of the drawn 7 at conv3

    dash_duo.find_element(f"#{ids.NAV} a[href='/']").click()
    until(lambda: "conv3" in heatmap_title(dash_duo), timeout=TIMEOUT)
    assert dash_duo.find_element(f"#{ids.LAYER_DROPDOWN}").text.startswith("conv3")
    assert dash_duo.get_logs() == []


def test_clicking_a_confusion_cell_shows_its_digits(app_browser):
    dash_duo = app_browser
    report = read_report(DEFAULT_MODEL_PATH)
    matrix = np.array(report["confusion_matrix"])
    np.fill_diagonal(matrix, 0)
    true, predicted = np.unravel_index(matrix.argmax(), matrix.shape)
    count = int(matrix[true, predicted])

    dash_duo.wait_for_page(dash_duo.server.url + "/evaluation")
    dash_duo.wait_for_contains_text(f"#{ids.METRICS_TABLE}", "accuracy", timeout=TIMEOUT)
    metrics = dash_duo.find_element(f"#{ids.METRICS_TABLE}").text
    assert f"{report['test_accuracy']:.2%}" in metrics
    assert f"ECE {report['calibration']['ece']:.2%}" in metrics.replace("\n", " ")
    # plotly draws the figures after the table is on the page (see click_plot)
    until(lambda: plotted(dash_duo, ids.CALIBRATION_FIGURE), timeout=TIMEOUT)

    click_plot(dash_duo, ids.CONFUSION_MATRIX, int(predicted), int(true))
    # the click picks the cell in the two menus that keyboard users pick it with
    until(lambda: [dash_duo.find_element(f"#{i}").get_attribute("value") for i in (ids.CELL_TRUE, ids.CELL_READ_AS)]
          == [str(true), str(predicted)], timeout=TIMEOUT)
    until(lambda: len(dash_duo.find_elements(f"#{ids.MISCLASSIFIED_GALLERY} .sample img")) == min(count, 30),
          timeout=TIMEOUT)
    captions = dash_duo.find_elements(f"#{ids.MISCLASSIFIED_GALLERY} .sample figcaption")
    assert all(f"a {true} read as {predicted}" in c.text for c in captions)
    confidences = [int(re.search(r"\((\d+)%\)", c.text).group(1)) for c in captions]
    assert confidences == sorted(confidences, reverse=True)  # confidently wrong first

    def indices() -> list[int]:  # read in one script call: the gallery may re-render meanwhile
        texts = dash_duo.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(c => c.textContent);",
            f"#{ids.MISCLASSIFIED_GALLERY} .sample figcaption")
        return [int(number) for text in texts for number in re.findall(r"^#(\d+):", text)]

    by_confidence = indices()
    dash_duo.find_element(f"#{ids.GALLERY_ORDER} input[value=index]").click()
    until(lambda: indices() != by_confidence and indices() == sorted(by_confidence), timeout=TIMEOUT)
    assert dash_duo.get_logs() == []


def test_live_reading_follows_the_pen_and_the_pen_up_answer_is_final(predict_page):
    """While a slow stroke is drawn the live map and the top 3 follow it; after the pen-up the map shown is
    the pen-up answer, the same as with live reading off."""
    dash_duo = predict_page
    driver = dash_duo.driver
    driver.execute_script(
        "window.__live = 0; new MutationObserver(r => { window.__live += r.length; }).observe("
        "document.querySelector('#map-stack .live-map'), {subtree: true, attributes: true, attributeFilter: ['src']});")

    def slow_one() -> None:
        canvas = canvas_area(dash_duo)
        actions = ActionChains(driver, duration=20)  # a pointer move every 20 ms, for about 2 s
        actions.move_to_element(canvas).move_by_offset(0, round(40 - canvas.size["height"] / 2)).click_and_hold()
        for _ in range(100):
            actions.move_by_offset(0, 2)
        actions.release().perform()

    slow_one()
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Read as 1", timeout=TIMEOUT)  # the pen-up answer
    assert driver.execute_script("return window.__live;") >= 5  # the live map was drawn while the pen moved
    until(lambda: driver.execute_script("return document.querySelector('#map-stack .live-map').hidden;"),
          timeout=TIMEOUT)  # gone once the final map is drawn
    live_on = heatmap_grid(dash_duo, ids.GRADCAM_FIGURE)

    dash_duo.find_element(f"#{ids.LIVE_READING}").click()  # off: the same stroke gives the same final answer
    dash_duo.find_element(f"#{ids.UNDO_BUTTON}").click()
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Draw a digit", timeout=TIMEOUT)
    driver.execute_script("window.__live = 0;")
    slow_one()
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Read as 1", timeout=TIMEOUT)
    assert driver.execute_script("return window.__live;") == 0
    np.testing.assert_array_equal(heatmap_grid(dash_duo, ids.GRADCAM_FIGURE), live_on)
    assert dash_duo.get_logs() == []
