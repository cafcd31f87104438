"""Browser-side speed, in headless Chromium against gunicorn on loopback (part of ``make bench``).

- drawing -> heatmap: from the pen-up that ends a stroke to the moment the map's figure (the
  model's recommended method, or Grad-CAM) has finished re-rendering (nothing loading, no DOM
  change in it for 300 ms), timed inside the page, warm (median and p90 over --trials strokes,
  20 by default);
- side by side with the floor (``bench.floor_app``: a bare Dash page whose canvas sends the stroke
  to one callback that answers an already computed 28x28 heatmap, on its own gunicorn), strokes
  taking turns: pen-up -> map, and its parts: before the request leaves, the request (Resource
  Timing), and the browser's part, from the answer's arrival to the map drawn;
- live reading: map updates a second while a slow stroke is drawn (the predict page's default);
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
# pen-up -> map and its parts: the request is the first to /_dash-update-component after the pen-up.
PARTS = """
const up = window.__up, last = window.__changes.at(-1);
const request = performance.getEntriesByType('resource').find(
    e => e.name.includes('_dash-update-component') && e.startTime >= up);
return [last - up, request.startTime - up, request.responseEnd - request.startTime, last - request.responseEnd];
"""
# Live reading: each live map drawn while the pen is down (its pictures given a new src).
LIVE_HOOKS = """
window.__down = null; window.__live = [];
document.addEventListener('pointerdown', () => { window.__down = performance.now(); window.__live = []; }, true);
new MutationObserver(records => {
    if (records.some(r => r.attributeName === 'src' && r.target.classList.contains('pixel-map-overlay')))
        window.__live.push(performance.now());
}).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['src']});
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


def stroke_parts(driver, stroke, cleared: str) -> list[float]:
    """One stroke on a cleared canvas: [pen-up -> map, before the request, the request, the browser's part]."""
    driver.find_element("id", "clear-button").click()
    wait_for(driver, status_says(cleared))
    time.sleep(0.3)
    driver.execute_script("window.__up = null; window.__changes = []; performance.clearResourceTimings();")
    draw(driver, stroke)
    wait_for(driver, lambda d: d.execute_script(MAP_DRAWN))
    return driver.execute_script(PARTS)


def side_by_side(app_url: str, floor_url: str, trials: int) -> dict[str, np.ndarray]:
    """``trials`` strokes on the predict page and on the floor, taking turns, in two browsers."""
    drivers = {"predict page": chromium(), "floor": chromium()}
    try:
        for driver, url in zip(drivers.values(), (app_url, floor_url), strict=True):
            driver.get(url)
            wait_for(driver, status_says("Draw a digit"))
            driver.execute_script(TIMING_HOOKS)
            for stroke in STROKES[:2]:  # warm: both workers answered
                stroke_parts(driver, stroke, "Draw a digit")
        parts: dict[str, list[list[float]]] = {name: [] for name in drivers}
        for trial in range(trials):
            for name, driver in drivers.items():
                parts[name].append(stroke_parts(driver, STROKES[trial % len(STROKES)], "Draw a digit"))
    finally:
        for driver in drivers.values():
            driver.quit()
    return {name: np.asarray(rows) for name, rows in parts.items()}


def slow_stroke(driver, seconds: float) -> None:
    """An S drawn over ``seconds``: pointer moves every 20 ms."""
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = wait_for(driver, lambda d: d.find_elements("css selector", "#canvas .nsewdrag"))[0]
    steps = int(seconds / 0.02)
    points = [(140 + 70 * np.cos(np.pi * (0.25 + 1.5 * i / steps)), 40 + 200 * i / steps) for i in range(steps + 1)]
    actions = ActionChains(driver, duration=20)  # each pointer move takes 20 ms
    width, height = canvas.size["width"], canvas.size["height"]
    actions.move_to_element(canvas).move_by_offset(round(points[0][0]) - width // 2, round(points[0][1]) - height // 2)
    actions.click_and_hold()
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        actions.move_by_offset(round(bx) - round(ax), round(by) - round(ay))
    actions.release().perform()


def live_rates(url: str, strokes: int, seconds: float = 2.0) -> list[float]:
    """Live map updates a second during each of ``strokes`` slow strokes on a cleared canvas."""
    driver = chromium()
    try:
        driver.get(url)
        wait_for(driver, status_says("Draw a digit"))
        driver.execute_script(TIMING_HOOKS + LIVE_HOOKS)
        rates = []
        for _ in range(strokes):
            driver.find_element("id", "clear-button").click()
            wait_for(driver, status_says("Draw a digit"))
            time.sleep(0.3)
            driver.execute_script("performance.clearResourceTimings();")
            slow_stroke(driver, seconds)
            down, up, live, trips = driver.execute_script(
                "return [window.__down, window.__up, window.__live, performance.getEntriesByType('resource')"
                ".filter(e => e.name.includes('_live-reading')).map(e => e.responseEnd - e.startTime)];")
            print(f"  slow stroke: {len(live)} live maps, {len(trips)} readings sent, round trip median "
                  f"{np.median(trips) if trips else float('nan'):.0f} ms")
            updates = [t for t in live if down <= t <= up]
            rates.append(len(updates) / ((up - down) / 1000))
            wait_for(driver, lambda d: d.execute_script(MAP_DRAWN))
        return rates
    finally:
        driver.quit()


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
    return f"{name:<52} {np.median(ms):8.0f} {np.percentile(ms, 90):8.0f} {max(ms):8.0f}"


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
    with gunicorn("dashapp.wsgi:server", workers=2, log_name="browser") as server, \
            gunicorn("bench.floor_app:server", workers=2, log_name="floor", config="", warm=False) as floor:
        parts = side_by_side(server.url, floor.url, args.trials)
        rates = live_rates(server.url, max(3, args.trials // 4))
        driver = chromium()
        try:
            loads, clicks = evaluation_open_times(driver, server.url, max(3, args.trials // 4))
        finally:
            driver.quit()
    print(f"\nin the browser (headless Chromium, gunicorn 2 workers), {args.trials} strokes each, taking turns")
    print(f"{'ms':<52} {'median':>8} {'p90':>8} {'max':>8}")
    print(f"{'first answer after start-up: pen-up -> map':<52} {first[0]:8.0f}")
    labels = ("pen-up -> map", "  before the request leaves", "  the request", "  the browser: answer -> map drawn")
    for column, label in enumerate(labels):
        for name, rows in parts.items():
            print(summary(f"{label} ({name})", list(rows[:, column])))
    page, bare = np.median(parts["predict page"], axis=0), np.median(parts["floor"], axis=0)
    print(f"predict page / floor, medians: pen-up -> map {page[0] / bare[0]:.2f}x, the browser's part "
          f"{page[3] / bare[3]:.2f}x")
    print(f"{'live reading: map updates a second (slow strokes)':<52} {np.median(rates):8.1f} "
          f"{'min':>8} {min(rates):8.1f}")
    print(summary("evaluation page: navbar click -> matrix", clicks))
    print(summary("evaluation page: load URL -> matrix", loads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
