"""``POST /_live-reading``: the predict page's reading of the strokes so far, while the pen moves.

Not a Dash callback: assets/live.js sends at most one of these at a time per page and draws the
answer itself (the live map over the map, the top 3), so a live reading costs the browser a fetch
and two pictures, not a pass of Dash's renderer. The pen-up answer is still the predict callback's.
Not part of the JSON API: its answer is the page's figures, not the prediction object.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from callbacks.predict import live_reading
from models.inference import ModelLoadError
from models.preprocess import DigitInputError

live = Blueprint("live", __name__)
MAX_PATHS = 200  # strokes on one canvas: more is not a drawing


@live.post("/_live-reading")
def read_strokes_so_far():
    body = request.get_json(silent=True) or {}
    paths, options = body.get("strokes"), body.get("options") or {}
    if not isinstance(paths, list) or not paths or len(paths) > MAX_PATHS or not all(
            isinstance(path, str) for path in paths) or not isinstance(options, dict):
        return jsonify(error="Send {'strokes': [SVG path, ...], 'options': {...}} with at least one stroke."), 400
    pen_width = options.get("pen_width")
    try:
        answer = live_reading(paths, options.get("layer"), options.get("method"), options.get("model"),
                              float(pen_width) if isinstance(pen_width, int | float) else None)
    except (DigitInputError, ModelLoadError, ValueError) as exc:  # too little ink yet, a model gone, junk paths
        # A 200: a stroke too short to read is a normal moment of drawing, not a failed request (a 4xx
        # is a console error in the browser). The pen-up answer says what is wrong, if anything is.
        return jsonify(error=str(exc))
    return jsonify(answer)
