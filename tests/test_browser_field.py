"""Field data in headless Chromium: a digit marked wrong on the predict page shows up in the /field
matrix and gallery, and its card opens it again on the predict page."""

from __future__ import annotations

from conftest import DASH_TEST_PORT
from dash.testing.wait import until
from selenium.webdriver.support.select import Select
from test_browser import TIMEOUT, click_plot, figure, wait_for_reading

from dashapp.field import FieldService
from dashapp.field.engine import migrate
from layouts import ids


def test_a_digit_marked_wrong_is_in_the_field_matrix_and_gallery(dash_duo, dash_app):
    field = FieldService.of(dash_app.server)
    migrate(field.settings.database_url)
    field.store.delete_all()
    dash_duo.start_server(dash_app, navigate=False, port=DASH_TEST_PORT)
    dash_duo.wait_for_page(f"{dash_duo.server.url}/?test=0")  # MNIST test digit 0: a 7
    wait_for_reading(dash_duo, 7)
    assert "Nothing is kept otherwise" in dash_duo.find_element(f"#{ids.FEEDBACK_KEPT}").text
    assert field.store.summary()["records"] == 0  # feedback mode: nothing until a button is pressed

    Select(dash_duo.find_element(f"#{ids.FEEDBACK_LABEL}")).select_by_visible_text("1")  # "Wrong, it is 1"
    until(lambda: "kept as “1”" in dash_duo.find_element(f"#{ids.FEEDBACK_STATUS}").text, timeout=TIMEOUT)
    summary = field.store.summary()
    assert summary["records"] == 1 and summary["confusion_matrix"][1][7] == 1

    dash_duo.wait_for_page(f"{dash_duo.server.url}/field")
    until(lambda: "1" in [t for trace in (figure(dash_duo, ids.FIELD_CONFUSION_MATRIX) or {}).get("data", [])
                          for row in trace.get("text", []) for t in row], timeout=TIMEOUT)
    def novelty_panel():
        drawn = figure(dash_duo, ids.FIELD_DISTRIBUTIONS) or {"data": [], "layout": {}}
        return ({trace.get("name") for trace in drawn["data"] if trace.get("xaxis") == "x2"},
                drawn["layout"].get("shapes", []))

    # The record's novelty score beside the MNIST test digits', and the model's threshold line.
    until(lambda: novelty_panel()[0] == {"field digits", "MNIST test digits"}, timeout=TIMEOUT)
    assert len(novelty_panel()[1]) == 1
    click_plot(dash_duo, ids.FIELD_CONFUSION_MATRIX, "7", "1")  # said 1, read as 7
    until(lambda: dash_duo.find_elements(f"#{ids.FIELD_GALLERY} a"), timeout=TIMEOUT)
    link = dash_duo.find_elements(f"#{ids.FIELD_GALLERY} a")[0]
    assert "said 1 · read 7" in dash_duo.find_element(f"#{ids.FIELD_GALLERY}").text
    assert "/?field=" in link.get_attribute("href")

    dash_duo.driver.execute_script("arguments[0].scrollIntoView(); arguments[0].click();", link)
    until(lambda: "Field record #" in dash_duo.find_element(f"#{ids.SOURCE_NAME}").text, timeout=TIMEOUT)
    wait_for_reading(dash_duo, 7)
    assert dash_duo.get_logs() == []
