"""The canvas at its edges, in headless Chromium: a small digit in a corner, a digit touching the border."""

from __future__ import annotations

from test_browser import TIMEOUT, app_browser, draw, predict_page, wait_for_reading  # noqa: F401 (fixtures)

from layouts import ids

SMALL_SEVEN_IN_CORNER = [[(12, 14), (72, 14), (34, 82)]]  # about a quarter of the canvas, top left
SEVEN_TOUCHING_THE_EDGES = [[(40, 4), (276, 4), (120, 276)]]  # the pen runs off the top, right and bottom


def test_small_digit_in_a_corner_is_read(predict_page):  # noqa: F811
    dash_duo = predict_page
    draw(dash_duo, SMALL_SEVEN_IN_CORNER)
    wait_for_reading(dash_duo, 7)
    assert dash_duo.get_logs() == []


def test_digit_touching_the_canvas_edge_is_read(predict_page):  # noqa: F811
    dash_duo = predict_page
    draw(dash_duo, SEVEN_TOUCHING_THE_EDGES)
    wait_for_reading(dash_duo, 7)
    dash_duo.find_element(f"#{ids.CLEAR_BUTTON}").click()
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Draw a digit", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []
