"""Not a digit, in the browser: a drawn star and an uploaded texture are called what they are."""

from __future__ import annotations

import numpy as np
from dash.testing.wait import until
from PIL import Image
from test_browser import SEVEN, TIMEOUT, app_browser, draw, figure, predict_page, wait_for_reading  # noqa: F401

from layouts import ids

STAR = [[(140, 30), (175, 240), (40, 105), (240, 105), (105, 240), (140, 30)]]


def status(dash_duo) -> str:
    return dash_duo.find_element(f"#{ids.STATUS}").text


def top3_title(dash_duo) -> str:
    return ((figure(dash_duo, ids.TOP3_CHART) or {}).get("layout", {}).get("title") or {}).get("text", "")


def test_a_drawn_star_is_not_a_digit_and_a_seven_is(predict_page):  # noqa: F811
    dash_duo = predict_page
    draw(dash_duo, STAR)
    until(lambda: "does not look like a digit" in status(dash_duo), timeout=TIMEOUT,
          msg=f"a star was read as a digit: {status(dash_duo)}")
    assert "the closest is" in status(dash_duo)
    until(lambda: top3_title(dash_duo).startswith("Not a digit"), timeout=TIMEOUT)  # the top 3, muted
    assert "does not look like a digit" in dash_duo.find_element(f"#{ids.NOVELTY_SUMMARY}").text
    assert figure(dash_duo, ids.GRADCAM_FIGURE)["data"][1]["z"]  # the closest digit's map is still there

    dash_duo.find_element(f"#{ids.CLEAR_BUTTON}").click()
    dash_duo.wait_for_contains_text(f"#{ids.STATUS}", "Draw a digit", timeout=TIMEOUT)
    draw(dash_duo, SEVEN)
    wait_for_reading(dash_duo, 7)
    until(lambda: "Read as 7" in status(dash_duo), timeout=TIMEOUT)
    assert top3_title(dash_duo) == "Top 3"
    assert "looks like a digit" in dash_duo.find_element(f"#{ids.NOVELTY_SUMMARY}").text
    assert dash_duo.get_logs() == []


def test_an_uploaded_texture_is_not_a_digit(predict_page, tmp_path):  # noqa: F811
    dash_duo = predict_page
    yy, xx = np.mgrid[0:180, 0:240]
    texture = tmp_path / "tiles.png"
    Image.fromarray((((yy // 15 + xx // 15) % 2) * 255).astype(np.uint8)).save(texture)
    dash_duo.find_element(f"#{ids.UPLOAD} input[type=file]").send_keys(str(texture))
    until(lambda: "does not look like a digit" in status(dash_duo), timeout=TIMEOUT,
          msg=f"a texture was read as a digit: {status(dash_duo)}")
    assert dash_duo.get_logs() == []
