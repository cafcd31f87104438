"""Callback speed: the predict page's stroke callback as the browser sends it, next to /api/predict.

Part of ``make bench``. The request is the one Chromium POSTs to ``/_dash-update-component``
after a stroke, built from the app's own callback map (``/_dash-dependencies``): the predict
callback's outputs, its inputs (the ``strokes`` store changed, the layer and method the dropdowns
hold, no bar clicked) and its state. The drawings are pen strokes of a few digits, sampled
every 2 canvas pixels as assets/canvas.js samples a pointer; /api/predict gets the same drawings
rasterised as PNG uploads, in the same run, on the same gunicorn (2 workers).

Also times every page's heavy callbacks in process (Flask's test client: Dash's framework and
the callback, no sockets): the stroke callback, the evaluation gallery, the feature maps and the
layers table, with the size of each answer.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.loadtools import (
    Client,
    LoadResult,
    Payload,
    add_model_option,
    gunicorn,
    image_payload,
    load_payloads,
    serve_model,
)

UPDATE_PATH = "/_dash-update-component"
STEP = 2.0  # canvas pixels between two recorded points of a stroke


def _polyline(*corners: tuple[float, float]) -> list[tuple[float, float]]:
    points = [corners[0]]
    for (x0, y0), (x1, y1) in zip(corners, corners[1:], strict=False):
        steps = max(1, int(math.hypot(x1 - x0, y1 - y0) / STEP))
        points += [(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(1, steps + 1)]
    return points


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> list[tuple[float, float]]:
    steps = max(2, int(abs(end - start) * max(rx, ry) / STEP))
    angles = [start + (end - start) * i / steps for i in range(steps + 1)]
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def _svg_path(points: Sequence[tuple[float, float]]) -> str:
    """As assets/canvas.js writes a stroke: ``M x,y L x,y L ...`` with one decimal."""
    xy = [f"{x:.1f},{y:.1f}" for x, y in points]
    return f"M{xy[0]}L{'L'.join(xy[1:])}"


# Strokes (canvas units, 0-280, y down) of drawn digits, one list of SVG paths per drawing.
DRAWINGS: dict[str, list[str]] = {
    "7": [_svg_path(_polyline((70, 60), (210, 60), (120, 240)))],
    "1": [_svg_path(_polyline((120, 80), (150, 45), (150, 240)))],
    "0": [_svg_path(_arc(140, 140, 65, 95, -math.pi / 2, 1.5 * math.pi))],
    "4": [_svg_path(_polyline((165, 40), (70, 170), (220, 170))), _svg_path(_polyline((170, 90), (170, 250)))],
    "3": [_svg_path(_arc(135, 90, 60, 50, -2.6, 1.6)), _svg_path(_arc(135, 190, 65, 55, -1.6, 2.6))],
}


def outputs_of(dependency: dict[str, Any]) -> list[dict[str, str]]:
    """``"..a.b...c.d.."`` (a multi-output callback) or ``"a.b"`` -> ``[{"id": "a", "property": "b"}, ...]``."""
    spec = dependency["output"]
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    return [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in parts]


def callback_for(dependencies: list[dict[str, Any]], output: str) -> dict[str, Any]:
    """The callback that writes ``output`` (``"id.property"``) as its first, not duplicate, output."""
    for dependency in dependencies:
        first = outputs_of(dependency)[0]
        if f"{first['id']}.{first['property']}" == output:
            return dependency
    raise LookupError(f"no callback writes {output}")


def update_body(dependency: dict[str, Any], values: dict[str, Any], changed: Sequence[str]) -> dict[str, Any]:
    """The JSON body Dash's renderer POSTs to run ``dependency``; ``values`` maps ``"id.property"`` to a value
    (absent: ``None``, as for a component property the page has not set)."""
    outputs = outputs_of(dependency)

    def with_values(items: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in items]

    return {"output": dependency["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": with_values(dependency["inputs"]), "changedPropIds": list(changed),
            "state": with_values(dependency["state"])}


def stroke_bodies(dependencies: list[dict[str, Any]], layer: str, method: str = "gradcam",
                  pen_width: float | None = None) -> list[dict[str, Any]]:
    """The predict callback's request after the last stroke of each drawing, as the browser sends it."""
    from layouts import ids
    from models.preprocess import DEFAULT_PEN_WIDTH

    dependency = callback_for(dependencies, f"{ids.TOP3_CHART}.figure")
    return [update_body(dependency, {
        f"{ids.STROKES}.data": strokes, f"{ids.LAYER_DROPDOWN}.value": layer,
        f"{ids.METHOD_DROPDOWN}.value": method, f"{ids.PEN_WIDTH}.value": pen_width or DEFAULT_PEN_WIDTH,
        f"{ids.EXPLAIN_CLASS}.value": int(digit), f"{ids.OPACITY_SLIDER}.value": 0.5,
    }, [f"{ids.STROKES}.data"]) for digit, strokes in DRAWINGS.items()]


def drawing_pngs() -> list[bytes]:
    """The same drawings as the stroke requests, as 280x280 PNGs (dark ink on white) for /api/predict."""
    from PIL import Image

    from models.preprocess import rasterize_strokes

    files = []
    for strokes in DRAWINGS.values():
        buffer = io.BytesIO()
        Image.fromarray(255 - rasterize_strokes(strokes)).save(buffer, "PNG")
        files.append(buffer.getvalue())
    return files


def json_payload(body: dict[str, Any]) -> Payload:
    return Payload(UPDATE_PATH, json.dumps(body).encode(), "application/json")


def interleaved(url: str, runs: dict[str, list[Payload]], requests: int, block: int = 20) -> dict[str, LoadResult]:
    """One client per run; rounds of ``block`` back-to-back requests per run (see bench.serving_bench)."""
    results = {name: LoadResult() for name in runs}
    clients = {name: Client(url) for name in runs}
    for start in range(0, requests, block):
        for name, payloads in runs.items():
            for i in range(start, min(start + block, requests)):
                results[name].add(clients[name].post(payloads[i % len(payloads)]))
    for client in clients.values():
        client.close()
    return results


# --- in process -----------------------------------------------------------------------------------------


def timed(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median milliseconds of ``repeats`` calls after one warm-up call, and the last answer."""
    answer = call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), answer


def page_bodies(dependencies: list[dict[str, Any]], service: Any) -> dict[str, list[dict[str, Any]]]:
    """Realistic requests for each page's heavy callbacks: name -> bodies (taken in turn)."""
    from layouts import ids

    layer = service.layer(None)
    model = service.model
    digits = []
    for strokes in DRAWINGS.values():
        from models.preprocess import normalize_digit, rasterize_strokes

        digits.append(normalize_digit(rasterize_strokes(strokes)).round(4).tolist())
    report = service.report()
    wrong = np.asarray(report["confusion_matrix"])
    np.fill_diagonal(wrong, 0)
    true, read_as = np.unravel_index(int(wrong.argmax()), wrong.shape)  # the fullest gallery
    gallery = callback_for(dependencies, f"{ids.MISCLASSIFIED_GALLERY}.children")
    maps = callback_for(dependencies, f"{ids.FEATURE_MAPS}.figure")
    table = callback_for(dependencies, f"{ids.LAYERS_TABLE}.data")
    return {
        "predict: stroke": stroke_bodies(dependencies, layer),
        f"evaluation: gallery ({int(true)} read as {int(read_as)})": [update_body(gallery, {
            f"{ids.CELL_TRUE}.value": str(true), f"{ids.CELL_READ_AS}.value": str(read_as),
            f"{ids.GALLERY_ORDER}.value": "confidence", f"{ids.SELECTED_LAYER}.data": layer,
        }, [f"{ids.CELL_READ_AS}.value"])],
        f"layers: feature maps ({layer}, {model.conv_layers()[-1]['name']})": [update_body(maps, {
            f"{ids.CURRENT_DIGIT}.data": digit, f"{ids.SELECTED_LAYER}.data": chosen,
        }, [f"{ids.CURRENT_DIGIT}.data"]) for digit in digits for chosen in (layer, model.conv_layers()[-1]["name"])],
        "layers: table": [update_body(table, {f"{ids.SELECTED_LAYER}.data": layer}, [f"{ids.SELECTED_LAYER}.data"])],
    }


def stroke_breakdown(service: Any, repeats: int) -> dict[str, float]:
    """Median ms of each step of the stroke callback, called directly on the first drawing."""
    from callbacks.figures import compact_grid, gradcam_figure, model_input_figure, top3_figure
    from models.preprocess import normalize_digit, rasterize_strokes

    strokes = next(iter(DRAWINGS.values()))
    options = service.options(service.layer(None))
    digit = compact_grid(normalize_digit(rasterize_strokes(strokes)))
    result = service.explain_nonempty(np.asarray(digit, np.float32), options)
    steps = {
        "rasterise + normalise": lambda: compact_grid(normalize_digit(rasterize_strokes(strokes))),
        "model (top 3, map, faithfulness)": lambda: service.explain_nonempty(np.asarray(digit, np.float32), options),
        "top3_figure": lambda: top3_figure(result["top"], result["explanation"]["class"]),
        "gradcam_figure": lambda: gradcam_figure(result["input"], result["explanation"]["heatmap"], 0.5, "map"),
        "model_input_figure": lambda: model_input_figure(result["input"]),
    }
    return {name: timed(step, repeats)[0] for name, step in steps.items()}


def in_process(repeats: int) -> list[tuple[str, float, int]]:
    """(callback, median server ms, largest answer in bytes) for each page's heavy callbacks, in this process."""
    from dashapp import create_app
    from dashapp.service import ModelService

    app = create_app()
    service = ModelService.of(app.server)
    service.load()
    client = app.server.test_client()
    dependencies = client.get("/_dash-dependencies").get_json()
    breakdown = stroke_breakdown(service, repeats)
    print("\nThe stroke callback's steps, called directly (median ms): "
          + ", ".join(f"{name} {ms:.2f}" for name, ms in breakdown.items()))
    rows = []
    for name, bodies in page_bodies(dependencies, service).items():
        call = _requests_in_turn(client, name, bodies)
        largest = max(len(call().get_data()) for _ in bodies)
        ms, _ = timed(call, repeats)
        rows.append((name, ms, largest))
    return rows


def _requests_in_turn(client: Any, name: str, bodies: list[dict[str, Any]]) -> Callable[[], Any]:
    """A call that POSTs the next of ``bodies`` through Flask's test client and checks the answer."""
    turn = iter(range(10**9))

    def call() -> Any:
        response = client.post(UPDATE_PATH, json=bodies[next(turn) % len(bodies)])
        if response.status_code != 200:
            raise RuntimeError(f"{name}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        return response

    return call


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.callback_bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="per run, one client")
    parser.add_argument("--repeats", type=int, default=30, help="in process, per callback")
    parser.add_argument("--skip-http", action="store_true", help="only the in-process timings")
    add_model_option(parser)
    args = parser.parse_args(argv)
    serve_model(args.model)

    rows = in_process(args.repeats)
    print("\nCallbacks in process (Flask test client: Dash and the callback, no sockets), median of "
          f"{args.repeats}")
    print(f"{'callback':<52} {'server ms':>10} {'largest answer kB':>18}")
    for name, ms, size in rows:
        print(f"{name:<52} {ms:10.2f} {size / 1000:18.1f}")
    if args.skip_http:
        return 0

    with gunicorn("dashapp.wsgi:server", workers=2, log_name="callback-bench") as server:
        dependencies = json.loads(_get(server.url, "/_dash-dependencies"))
        layer = json.loads(_get(server.url, "/api/model"))["default_layer"]
        runs = {"/api/predict": [image_payload(png) for png in drawing_pngs()],
                "predict callback": [json_payload(body) for body in stroke_bodies(dependencies, layer)]}
        for payloads in runs.values():  # each worker builds its figures once before timing starts
            for payload in payloads * 4:
                Client(server.url).post(payload)
        latency = interleaved(server.url, runs, args.requests)
        throughput = {name: load_payloads(server.url, payloads, args.requests * 2, clients=8)
                      for name, payloads in runs.items()}
    print(f"\nThe stroke callback as the browser sends it vs /api/predict on the same drawings, gunicorn 2 workers "
          f"on loopback, {args.requests} requests each (latency: one client, blocks of 20 per path in turn)")
    print(f"{'path':<18} {'p50 ms':>8} {'p90 ms':>8} {'req/s (8 clients)':>18} {'answer kB':>10} {'errors':>7}")
    for name in runs:
        errors = latency[name].errors + throughput[name].errors
        print(f"{name:<18} {latency[name].percentile(50):8.2f} {latency[name].percentile(90):8.2f} "
              f"{throughput[name].throughput:18.1f} {np.median(latency[name].sizes) / 1000:10.1f} {errors:7d}")
    return 0


def _get(url: str, path: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(f"{url}{path}", timeout=30) as response:
        return response.read()


if __name__ == "__main__":
    raise SystemExit(main())
