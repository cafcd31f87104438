"""The evaluation page's robustness chart in headless Chromium: a bar's click shows that corruption's digits."""

from __future__ import annotations

from dash.testing.wait import until
from test_browser import TIMEOUT, click_plot
from test_browser_pages import browser, gallery_cards, open_page, report, text_of  # noqa: F401  (fixtures)

from layouts import ids


def test_clicking_a_corruption_bar_shows_its_misread_digits(browser, report):  # noqa: F811
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
    assert dash_duo.get_logs() == []
