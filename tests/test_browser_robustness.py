"""In headless Chromium: the robustness chart (a bar's click shows that corruption's digits) and the
predict page's recommended method."""

from __future__ import annotations

from dash.testing.wait import until
from test_browser import TIMEOUT, app_browser, click_plot, predict_page  # noqa: F401  (fixtures)
from test_browser_models import menu_label, pick
from test_browser_pages import browser, gallery_cards, open_page, report, text_of  # noqa: F401  (fixtures)

from layouts import ids
from models import DEFAULT_MODEL_PATH
from models.methods import METHOD_LABELS, METHOD_NAMES
from models.report import read_report
from models.scoreboard import recommended_row


def robustness_models(dash_duo) -> list[str]:
    """The model of each bar series in the robustness chart."""
    return dash_duo.driver.execute_script(
        f"const gd = document.querySelector('#{ids.ROBUSTNESS_FIGURE} .js-plotly-plot');"
        "return (gd && gd.data || []).map(trace => trace.customdata[0][0]);")


def test_clicking_a_corruption_bar_shows_its_misread_digits(browser, report, dash_app):  # noqa: F811
    dash_duo = browser
    open_page(dash_duo, "/evaluation")
    bars = dash_duo.driver.execute_script(
        f"return document.querySelector('#{ids.ROBUSTNESS_FIGURE} .js-plotly-plot').data[0].y;")
    assert len(bars) == 15
    row = min(report["robustness"]["corruptions"], key=lambda row: row["accuracy"])
    assert f"weakest {row['name']}" in text_of(dash_duo, ids.ROBUSTNESS_SUMMARY)

    click_plot(dash_duo, ids.ROBUSTNESS_FIGURE, row["accuracy"] / 2, row["name"])
    until(lambda: len(gallery_cards(dash_duo)) == min(30, len(row["misread"])), timeout=TIMEOUT,
          msg="the gallery never showed the corruption's digits")
    cards = gallery_cards(dash_duo)
    assert cards[0]["href"] == f"/?test={row['misread'][0]}"
    assert all(f"under {row['name']}" in card["caption"] and card["loaded"] for card in cards)
    assert f"under {row['name']}" in text_of(dash_duo, ids.MISCLASSIFIED_GALLERY)

    pick(dash_duo, ids.COMPARE_DROPDOWN, menu_label(dash_app, "seed_cnn"))  # both models' bars, side by side
    until(lambda: robustness_models(dash_duo) == [report["model"], "seed_cnn"], timeout=TIMEOUT,
          msg=f"the robustness chart shows {robustness_models(dash_duo)}")
    assert dash_duo.get_logs() == []


def test_predict_page_defaults_to_the_recommended_method_until_the_user_picks_one(predict_page):  # noqa: F811
    dash_duo = predict_page
    section = read_report(DEFAULT_MODEL_PATH)["explanations"]
    method, layer = recommended_row(section)["method"], recommended_row(section)["layer"]
    menu = f"#{ids.METHOD_DROPDOWN}"
    until(lambda: METHOD_LABELS[method] in dash_duo.find_element(menu).text, timeout=TIMEOUT,
          msg=f"the method menu never showed the recommended {method}")
    assert dash_duo.find_element(f"#{ids.LAYER_DROPDOWN}").text.startswith(layer or "")
    until(lambda: "·" in dash_duo.find_element(menu).text, timeout=TIMEOUT)  # labelled with its score

    other = next(m for m in METHOD_NAMES if m != method and m in {"gradcam", "layercam"})
    dash_duo.select_dcc_dropdown(menu, index=METHOD_NAMES.index(other))  # the labels carry scores
    until(lambda: METHOD_LABELS[other] in dash_duo.find_element(menu).text, timeout=TIMEOUT)
    dash_duo.wait_for_page(dash_duo.server.url + "/")  # the user's choice outlives the page
    until(lambda: METHOD_LABELS[other] in dash_duo.find_element(menu).text, timeout=TIMEOUT,
          msg="the chosen method was replaced by the recommended one")
    assert dash_duo.get_logs() == []
