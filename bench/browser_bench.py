"""Browser-side speed, in headless Chromium against gunicorn on loopback (part of ``make bench``).

- drawing -> heatmap: from the pen-up that ends a stroke to the moment the map's figure (the
  model's recommended method, or Grad-CAM) has finished re-rendering (nothing loading, no DOM
  change in it for 300 ms), timed inside the page, warm (median and p90 over --trials strokes,
  20 by default);
- first answer: the same for the first stroke drawn on a freshly started server (each worker
  warms its explanation functions before it takes requests);
- evaluation page: from clicking its link in the navbar (or loading its URL) until the
  confusion matrix is drawn.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

import numpy as np

from bench.loadtools import add_model_option, gunicorn, serve_model

# Records the pen-up and every change of the map's figure, in page time (ms). A pointer event:
# the canvas cancels pointerdown, so the browser sends no mouse events while drawing. Dash marking
# the figure as loading (data-dash-is-loading) is not a change of the map: counted, a slow answer
# would look like one given 5 ms after the pen-up.
TIMING_HOOKS = """
window.__up = null; window.__changes = [];
document.addEventListener('pointerup', () => { window.__up = performance.now(); window.__changes = []; }, true);
new MutationObserver(records => {
    const inFigure = records.some(r => r.target.closest && r.target.closest('#gradcam-figure')
                                       && r.attributeName !== 'data-dash-is-loading');
    if (inFigure) window.__changes.push(performance.now());
}).observe(document.body, {subtree: true, childList: true, attributes: true});
"""
# The map is drawn: it changed, nothing is loading, and it has not changed for 300 ms.
MAP_DRAWN = """
return window.__changes.length > 0 && document.querySelector('[data-dash-is-loading]') === null
    && performance.now() - window.__changes.at(-1) > 300;
"""
STROKES = ([(140, 40), (135, 140), (130, 245)], [(70, 50), (210, 50), (130, 250)], [(200, 60), (90, 150), (210, 240)])


def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("DASH_TEST_CHROMEPATH") or shutil.which("chromium")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--window-size=1400,1000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def wait_for(driver, condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition(driver)
        if value:
            return value
        time.sleep(0.01)
    raise TimeoutError("the page did not get there in time")


def status_says(text: str):
    """A wait condition: the status line contains ``text`` (the page may not be rendered yet)."""
    return lambda driver: driver.execute_script(
        "const s = document.getElementById('status'); return s !== null && s.textContent.includes(arguments[0]);",
        text)


def status_answered(driver) -> bool:
    """A wait condition: the predict page has given its first answer (its status no longer says Loading)."""
    return driver.execute_script(
        "const s = document.getElementById('status'); return s !== null && !s.textContent.startsWith('Loading');")


def draw(driver, points) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = wait_for(driver, lambda d: d.find_elements("css selector", "#canvas .nsewdrag"))[0]
    width, height = canvas.size["width"], canvas.size["height"]
    actions = ActionChains(driver).move_to_element(canvas)
    actions.move_by_offset(points[0][0] - width // 2, points[0][1] - height // 2).click_and_hold()
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        for _ in range(8):
            actions.move_by_offset(round((bx - ax) / 8), round((by - ay) / 8))
    actions.release().perform()


def drawing_latencies(driver, url: str, trials: int) -> list[float]:
    """Pen-up -> map for ``trials`` strokes, each on a cleared canvas; the first is the first answer
    of the page (of the server too, when it has just started)."""
    driver.get(url)
    wait_for(driver, status_says("Draw a digit"))
    driver.execute_script(TIMING_HOOKS)
    latencies = []
    for trial in range(trials):
        if trial:
            driver.find_element("id", "clear-button").click()
            wait_for(driver, status_says("Draw a digit"))
        driver.execute_script("window.__up = null; window.__changes = [];")
        draw(driver, STROKES[trial % len(STROKES)])
        wait_for(driver, lambda d: d.execute_script(MAP_DRAWN))
        up, last = driver.execute_script("return [window.__up, window.__changes.at(-1)];")
        latencies.append(last - up)
    return latencies


def evaluation_open_times(driver, url: str, trials: int) -> tuple[list[float], list[float]]:
    confusion_drawn = "return document.querySelector('#confusion-matrix .heatmaplayer image') !== null;"
    loads, clicks = [], []
    for _ in range(trials):
        started = time.perf_counter()
        driver.get(f"{url}/evaluation")
        wait_for(driver, lambda d: d.execute_script(confusion_drawn))
        loads.append((time.perf_counter() - started) * 1000)
        driver.get(url)
        wait_for(driver, status_answered)
        link = driver.find_element("css selector", "#nav a[href='/evaluation']")
        started = time.perf_counter()
        link.click()
        wait_for(driver, lambda d: d.execute_script(confusion_drawn))
        clicks.append((time.perf_counter() - started) * 1000)
    return loads, clicks


def summary(name: str, ms: list[float]) -> str:
    return f"{name:<44} {np.median(ms):8.0f} {np.percentile(ms, 90):8.0f} {max(ms):8.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser_bench", description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    add_model_option(parser)
    args = parser.parse_args(argv)
    serve_model(args.model)
    driver = chromium()
    try:
        with gunicorn("dashapp.wsgi:server", workers=2, log_name="browser-cold", warm=False) as server:
            first = drawing_latencies(driver, server.url, 1)
    finally:
        driver.quit()
    with gunicorn("dashapp.wsgi:server", workers=2, log_name="browser") as server:
        driver = chromium()
        try:
            drawing = drawing_latencies(driver, server.url, args.trials + 2)[2:]  # warm: both workers answered
            loads, clicks = evaluation_open_times(driver, server.url, max(3, args.trials // 4))
        finally:
            driver.quit()
    print(f"\nin the browser (headless Chromium, gunicorn 2 workers), {args.trials} trials")
    print(f"{'ms':<44} {'median':>8} {'p90':>8} {'max':>8}")
    print(f"{'first answer after start-up: pen-up -> map':<44} {first[0]:8.0f}")
    print(summary("pen-up -> map (warm)", drawing))
    print(summary("evaluation page: navbar click -> matrix", clicks))
    print(summary("evaluation page: load URL -> matrix", loads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
