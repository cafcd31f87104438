"""A number drawn on the predict page: the number read in large type, one card per digit, and a
click on a card makes the main panels explain that digit."""
# ruff: noqa: F811  (the tests take the fixtures imported from test_browser by name)

from __future__ import annotations

import math

import numpy as np
from dash.testing.wait import until
from test_browser import (  # noqa: F401  (fixtures, shared with the other browser tests)
    TIMEOUT,
    app_browser,
    draw,
    predict_page,
    top_digit,
    wait_for_reading,
)

from layouts import ids

ONE = [[(150, 50), (140, 240)]]
ZERO = [[(round(330 + 55 * math.cos(a)), round(145 + 90 * math.sin(a))) for a in np.linspace(0, 2 * math.pi, 24)]]


def number_read(dash_duo) -> str:
    return dash_duo.find_element(f"#{ids.NUMBER_READ}").text


def test_a_drawn_number_is_read_digit_by_digit(predict_page):
    dash_duo = predict_page
    draw(dash_duo, ONE)
    wait_for_reading(dash_duo, 1)
    assert not dash_duo.find_element(f"#{ids.NUMBER_PANEL}").is_displayed()  # one digit: the page as before
    draw(dash_duo, ZERO)
    until(lambda: number_read(dash_duo) == "10", timeout=TIMEOUT,
          msg=f"number-read never showed 10: {number_read(dash_duo)!r}")
    cards = dash_duo.find_elements(f"#{ids.DIGIT_STRIP} .digit-card")
    assert len(cards) == 2 and "1 ·" in cards[0].text and "0 ·" in cards[1].text
    assert top_digit(dash_duo) == 1  # the first digit is explained first
    cards[1].click()
    wait_for_reading(dash_duo, 0)
    assert "selected" in dash_duo.find_elements(f"#{ids.DIGIT_STRIP} .digit-card")[1].get_attribute("class")


def test_the_canvas_fits_a_phone_and_is_twice_as_wide_as_tall(app_browser):
    dash_duo = app_browser
    for width in (1400, 390):
        dash_duo.driver.set_window_size(width, 844)
        dash_duo.wait_for_page(dash_duo.server.url)
        dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Draw a digit", timeout=TIMEOUT)
        until(lambda: dash_duo.driver.execute_script(
            f"const a = document.querySelector('#{ids.CANVAS} .nsewdrag');"
            "return !!a && a.getBoundingClientRect().width > 0;"), timeout=TIMEOUT)
        box = dash_duo.driver.execute_script(
            f"const r = document.querySelector('#{ids.CANVAS} .nsewdrag').getBoundingClientRect();"
            "return [r.width, r.height, document.documentElement.scrollWidth, window.innerWidth];")
        area_width, area_height, page_width, window_width = box
        assert abs(area_width / area_height - 2) < 0.05
        assert page_width <= window_width  # no sideways scrolling
        if width == 1400:
            assert abs(area_width - 560) <= 3  # a canvas unit is a pixel, as the pen shown is the pen read
