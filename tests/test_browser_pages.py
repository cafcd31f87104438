"""The layers and evaluation pages and the shell in headless Chromium, as a person meets them:
gallery cards that open a digit, the confusion matrix from the keyboard, phones, contrast, words for charts."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DASH_TEST_PORT
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys
from test_browser import TIMEOUT, click_plot

from layouts import ids
from models import DEFAULT_MODEL_PATH
from models.report import read_report

PAGES = {"/": "predict", "/layers": "layers", "/evaluation": "evaluation"}
WIDTHS = (390, 768, 1024)  # a phone, a tablet upright, a tablet on its side

# WCAG 2 contrast of every piece of HTML text on the page against what is behind it (plotly's SVG
# aside): the failures, as "tag 'text' ratio". Large text (24 px, or 18.66 px bold) needs 3:1.
LOW_CONTRAST_TEXT = """
const rgba = s => { const p = s.match(/[\\d.]+/g).map(Number); return p.length > 3 ? p : [...p, 1]; };
const over = (top, below) => [0, 1, 2].map(i => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);
const luminance = c => c.slice(0, 3).map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
function behind(element) {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
        const colour = rgba(getComputedStyle(e).backgroundColor);
        if (colour[3] > 0) layers.push(colour);
        if (colour[3] >= 1) break;
    }
    return layers.reverse().reduce((below, top) => over(top, below), [255, 255, 255, 1]);
}
const failures = [];
for (const element of document.body.querySelectorAll('*')) {
    if (element.closest('svg, .visually-hidden, script, style, option')) continue;
    if (![...element.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
    const style = getComputedStyle(element), box = element.getBoundingClientRect();
    if (!box.width || !box.height || style.visibility !== 'visible') continue;
    const background = behind(element), ink = over(rgba(style.color), background);
    const [light, dark] = [luminance(ink), luminance(background)].sort((a, b) => b - a);
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    if (ratio < (size >= 24 || (bold && size >= 18.66) ? 3 : 4.5))
        failures.push(`${element.tagName} '${element.textContent.trim().slice(0, 40)}' ${ratio.toFixed(2)}`);
}
return failures;
"""


def settled(dash_duo) -> bool:
    """The page's callbacks have all answered and plotly has drawn every graph on it."""
    return dash_duo._wait_for_callbacks() and dash_duo.driver.execute_script(
        "return document.querySelector('#_pages_content > *') !== null"
        " && [...document.querySelectorAll('.dash-graph')]"
        ".every(g => { const gd = g.querySelector('.js-plotly-plot'); return gd && gd._fullLayout; });")


def open_page(dash_duo, path: str, width: int = 1400) -> None:
    dash_duo.driver.set_window_size(width, 900)
    dash_duo.wait_for_page(dash_duo.server.url + path)
    until(lambda: settled(dash_duo), timeout=TIMEOUT, msg=f"{path} never settled at {width} px")


def text_of(dash_duo, element_id: str) -> str:
    """An element's text, also when it is only there for screen readers (visually hidden)."""
    return dash_duo.driver.execute_script("return document.getElementById(arguments[0]).textContent;", element_id)


def gallery_cards(dash_duo) -> list[dict]:
    """Each card of the gallery: its link, caption, alt text and the size its map is shown at."""
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(a => {"
        " const img = a.querySelector('img'), box = img.getBoundingClientRect();"
        " return {href: a.getAttribute('href'), caption: a.querySelector('figcaption').textContent,"
        "         alt: img.alt, width: box.width, height: box.height, loaded: img.naturalWidth}; });",
        f"#{ids.MISCLASSIFIED_GALLERY} a.sample")


@pytest.fixture
def browser(dash_duo, dash_app):
    """dash_duo on the app's server, not yet on any page (open_page sizes the window)."""
    dash_duo.start_server(dash_app, navigate=False, port=DASH_TEST_PORT)
    return dash_duo


@pytest.fixture(scope="module")
def report() -> dict:
    return read_report(DEFAULT_MODEL_PATH)


def pick_cell_with_keys(dash_duo, true: int, predicted: int) -> None:
    """Pick a confusion cell from the keyboard: type a digit into each of the two native menus."""
    dash_duo.find_element(f"#{ids.CELL_TRUE}").send_keys(str(true))
    dash_duo.find_element(f"#{ids.CELL_READ_AS}").send_keys(str(predicted))


def commonest_mistake(report: dict) -> tuple[int, int, int]:
    matrix = np.array(report["confusion_matrix"])
    np.fill_diagonal(matrix, 0)
    true, predicted = np.unravel_index(matrix.argmax(), matrix.shape)
    return int(true), int(predicted), int(matrix[true, predicted])


def test_confusion_cell_picked_from_the_keyboard_fills_the_gallery_with_links_to_its_digits(browser, report):
    dash_duo = browser
    true, predicted, count = commonest_mistake(report)
    open_page(dash_duo, "/evaluation")

    # Tab-reachable native menus, driven with keys only: type a digit into each
    pick_cell_with_keys(dash_duo, true, predicted)
    until(lambda: len(gallery_cards(dash_duo)) == min(count, 30) and all(c["loaded"] for c in gallery_cards(dash_duo)),
          timeout=TIMEOUT, msg=dash_duo.find_element(f"#{ids.MISCLASSIFIED_GALLERY}").text)

    mistakes = {m["index"]: m for m in report["misclassified"] if (m["true"], m["predicted"]) == (true, predicted)}
    for card in gallery_cards(dash_duo):
        index = int(card["href"].removeprefix("/?test="))
        assert card["href"] == f"/?test={index}" and index in mistakes
        assert card["caption"].startswith(f"#{index}: a {true} read as {predicted}")  # true and predicted labels
        assert f"Grad-CAM map of {predicted}" in card["alt"]
        assert card["width"] >= 112 and card["height"] >= 112  # a map you can read

    assert dash_duo.get_logs() == []

    first = gallery_cards(dash_duo)[0]["href"]
    dash_duo.find_element(f"#{ids.MISCLASSIFIED_GALLERY} a.sample").send_keys(Keys.ENTER)  # a link, from the keyboard
    until(lambda: dash_duo.driver.current_url.endswith(first), timeout=TIMEOUT)


def test_clicking_an_empty_confusion_cell_says_it_is_empty(browser, report):
    dash_duo = browser
    matrix = np.array(report["confusion_matrix"])
    true, predicted = next((t, p) for t in range(10) for p in range(10) if t != p and matrix[t, p] == 0)
    open_page(dash_duo, "/evaluation")

    click_plot(dash_duo, ids.CONFUSION_MATRIX, predicted, true)
    dash_duo.wait_for_contains_text(f"#{ids.MISCLASSIFIED_GALLERY}",
                                    f"No test digit {true} was read as {predicted}: that cell is empty.",
                                    timeout=TIMEOUT)
    assert dash_duo.find_element(f"#{ids.CELL_TRUE}").get_attribute("value") == str(true)
    assert dash_duo.find_element(f"#{ids.CELL_READ_AS}").get_attribute("value") == str(predicted)
    assert dash_duo.get_logs() == []


def test_navbar_folds_into_a_menu_on_a_phone(browser):
    dash_duo = browser
    open_page(dash_duo, "/evaluation", width=390)
    link = dash_duo.find_element(f"#{ids.NAV} a[href='/layers']")
    toggler = dash_duo.find_element(f"#{ids.NAV_TOGGLER}")
    assert toggler.is_displayed() and not link.is_displayed()

    toggler.click()
    until(link.is_displayed, timeout=TIMEOUT)
    link.click()
    dash_duo.wait_for_contains_text(f"#{ids.LAYERS_TABLE}", "conv4", timeout=TIMEOUT)
    until(lambda: not dash_duo.find_element(f"#{ids.NAV} a[href='/evaluation']").is_displayed(),
          timeout=TIMEOUT)  # picking a page folds the menu away again

    dash_duo.driver.set_window_size(1024, 900)
    until(lambda: dash_duo.find_element(f"#{ids.NAV} a[href='/evaluation']").is_displayed(), timeout=TIMEOUT)
    assert not dash_duo.find_element(f"#{ids.NAV_TOGGLER}").is_displayed()
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize("path", PAGES, ids=PAGES.values())
def test_page_fits_phones_and_tablets_without_sideways_scrolling(browser, path):
    """The predict page's own layout is another change's: until it lands this may fail for "/" only."""
    dash_duo = browser
    for width in WIDTHS:
        open_page(dash_duo, path, width)
        scroll_width, inner_width = dash_duo.driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth];")
        assert inner_width <= width  # the browser really is that narrow
        assert scroll_width <= inner_width, f"{path} scrolls sideways at {width} px ({scroll_width} px wide)"
        assert dash_duo.driver.execute_script("return document.documentElement.lang;") == "en"
        assert len(dash_duo.find_elements("h1")) == 1
    assert dash_duo.get_logs() == []


def test_charts_have_words_and_text_has_contrast_on_layers_and_evaluation(browser, report):
    dash_duo = browser
    true, predicted, _ = commonest_mistake(report)
    open_page(dash_duo, "/evaluation")
    pick_cell_with_keys(dash_duo, true, predicted)
    dash_duo.wait_for_element(f"#{ids.MISCLASSIFIED_GALLERY} a.sample img", timeout=TIMEOUT)

    matrix_words = text_of(dash_duo, ids.CONFUSION_MATRIX_SUMMARY)
    assert f"{report['test_size']:,} test digits" in matrix_words and f"{true} read as {predicted}" in matrix_words
    assert f"expected calibration error {report['calibration']['ece']:.2%}" in text_of(dash_duo,
                                                                                       ids.CALIBRATION_SUMMARY)
    assert dash_duo.driver.execute_script(LOW_CONTRAST_TEXT) == []

    open_page(dash_duo, "/layers")
    assert "Draw or upload a digit" in text_of(dash_duo, ids.FEATURE_MAPS_SUMMARY)
    assert dash_duo.driver.execute_script(LOW_CONTRAST_TEXT) == []
    assert dash_duo.get_logs() == []
