"""Figure builders: plain functions, checked without a browser or a model."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from callbacks.figures import (
    canvas_figure,
    compact_grid,
    confusion_matrix_figure,
    digit_png,
    feature_maps_figure,
    gradcam_figure,
    heatmap_overlay_picture,
    heatmap_overlay_png,
    heatmap_summary,
    message_figure,
    model_input_figure,
    percent_array,
    png_bytes,
    reliability_figure,
    top3_figure,
    top3_summary,
)
from models.preprocess import CANVAS_SIZE, CANVAS_WIDTH, DEFAULT_PEN_WIDTH, normalize_digit, rasterize_strokes

SEVEN_PATH = "M70,60L210,60L120,240"


def test_canvas_is_560_by_280_units_with_the_rasteriser_pen():
    layout = canvas_figure([SEVEN_PATH])["layout"]
    assert layout["autosize"] and "width" not in layout  # sized 2:1 by the page's stylesheet (predict.css)
    assert layout["margin"] == {"l": 0, "r": 0, "t": 0, "b": 0}
    assert layout["xaxis"]["range"] == [0, CANVAS_WIDTH] and layout["yaxis"]["range"] == [CANVAS_SIZE, 0]
    assert layout["xaxis"]["fixedrange"] and layout["yaxis"]["fixedrange"]
    assert layout["dragmode"] is False  # assets/canvas.js draws: plotly's drawn shapes grab the pen
    assert layout["newshape"]["line"]["width"] == DEFAULT_PEN_WIDTH  # what you see is the ink the model gets
    assert [shape["path"] for shape in layout["shapes"]] == [SEVEN_PATH]
    assert not any(shape["editable"] for shape in layout["shapes"])
    assert canvas_figure()["layout"]["shapes"] == []
    assert canvas_figure([SEVEN_PATH], pen_width=30)["layout"]["shapes"][0]["line"]["width"] == 30


def test_predict_figures_are_valid_plotly_figures():
    image, heatmap = np.zeros((28, 28)), np.zeros((28, 28))
    top = [{"digit": 7, "probability": 0.9}, {"digit": 1, "probability": 0.07}, {"digit": 9, "probability": 0.03}]
    for fig in (canvas_figure([SEVEN_PATH]), top3_figure(top, 7), model_input_figure(image),
                gradcam_figure(image, heatmap), message_figure("Draw a digit")):
        go.Figure(fig)  # plotly.py validates every key: a typo would raise here, not fail silently in the browser


def test_canvas_strokes_rasterise_where_they_are_drawn():
    ink = rasterize_strokes([SEVEN_PATH])
    assert ink[60, 140] == 255 and ink[240 - 5, 120] > 0  # on the bar and near the foot of the 7
    assert ink[200, 250] == 0
    assert normalize_digit(ink).shape == (28, 28)


def test_the_pen_scales_with_the_drawing_so_a_small_digit_is_not_a_blob():
    big = rasterize_strokes(["M40,140L240,140"], pen_width=20)  # 200 units: the pen as set
    small = rasterize_strokes(["M20,30L70,30"], pen_width=20)  # 50 units: a quarter of the pen
    assert 18 <= (big[:, 140] > 127).sum() <= 22
    assert 3 <= (small[:, 45] > 127).sum() <= 7
    dot = rasterize_strokes(["M100,100L100,100"])  # a tap
    assert dot[100, 100] == 255 and dot[100, 120] == 0


def test_top3_bars_in_order_with_the_explained_digit_highlighted():
    top = [{"digit": 7, "probability": 0.9}, {"digit": 1, "probability": 0.07}, {"digit": 9, "probability": 0.03}]
    bar = top3_figure(top, explained=1)["data"][0]
    assert bar["x"] == ["7", "1", "9"] and bar["customdata"] == [7, 1, 9]
    assert bar["y"] == [0.9, 0.07, 0.03]
    assert bar["text"] == ["90.0%", "7.0%", "3.0%"]
    colours = bar["marker"]["color"]
    assert colours[1] != colours[0] == colours[2]
    assert top3_summary(top) == "Top 3: 7 (90%), 1 (7%), 9 (3%)."


def test_gradcam_overlay_has_the_input_below_the_map_with_opacity_and_colour_bar():
    image = np.zeros((28, 28))
    image[5:20, 14] = 1.0
    heatmap = np.zeros((28, 28))
    heatmap[10, 14] = 1.0
    fig = gradcam_figure(image, heatmap, opacity=0.3, title="Grad-CAM for 1 at conv4")
    below, above = fig["data"]
    assert np.array_equal(typed_array(below["z"]), image * 100)
    assert np.array_equal(typed_array(above["z"]), heatmap * 100)
    assert above["opacity"] == 0.3 and above["zmin"] == 0 and above["zmax"] == 100
    assert above["colorbar"]["ticktext"][-1] == "1"  # the colour bar reads 0 to 1 as before
    assert above["colorbar"]["title"]["text"] == "importance" and below["showscale"] is False
    assert above["colorscale"][0] == [0.0, "rgba(0,0,131,0)"]  # transparent at zero: the digit shows through
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"  # row 0 at the top, as in the image
    assert fig["layout"]["title"]["text"] == "Grad-CAM for 1 at conv4"
    summary = heatmap_summary(heatmap, "Grad-CAM for 1 at conv4")
    assert "hottest at the middle centre (row 10, column 14)" in summary
    assert heatmap_summary(np.zeros((28, 28)), "Grad-CAM").endswith("the map is empty.")


def test_model_input_shows_every_pixel():
    image = np.random.default_rng(0).random((28, 28))
    trace = model_input_figure(image)["data"][0]
    np.testing.assert_allclose(typed_array(trace["z"]) / 100, image, atol=0.005)  # whole percents
    assert trace["zmin"] == 0 and trace["zmax"] == 100 and trace["xgap"] == 1


def typed_array(spec: dict) -> np.ndarray:
    """A plotly.js typed array (``{dtype, bdata, shape}``) as NumPy, as plotly.js decodes it."""
    shape = [int(n) for n in spec["shape"].split(",")]
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=spec["dtype"]).reshape(shape)


def test_percent_array_is_one_byte_a_cell_in_whole_percents():
    grid = np.array([[0.0, 0.004, 0.006], [0.5, 0.999, 1.0]])
    spec = percent_array(grid)
    assert spec["dtype"] == "u1" and spec["shape"] == "2, 3"
    assert typed_array(spec).tolist() == [[0, 0, 1], [50, 100, 100]]
    assert percent_array(np.array([[-0.2, 1.7]]))["bdata"] == percent_array(np.array([[0.0, 1.0]]))["bdata"]
    assert len(percent_array(np.random.default_rng(0).random((28, 28)))["bdata"]) == 1048  # 784 bytes, base64


def test_compact_grid_keeps_four_decimals_and_writes_whole_numbers_short():
    grid = compact_grid(np.array([[0.0, 1.0, 0.123456], [0.5, 0.0, 0.99999]], dtype=np.float32))
    assert grid == [[0, 1, 0.1235], [0.5, 0, 1]]
    assert all(type(v) is int for v in (grid[0][0], grid[0][1], grid[1][2]))
    assert json.dumps(compact_grid(np.zeros((2, 2)))) == "[[0, 0], [0, 0]]"


def test_confusion_matrix_annotates_hits_and_mistakes_separately():
    matrix = np.diag(np.full(10, 1000))
    matrix[4, 9] = 7  # seven 4s read as 9
    hits, mistakes, empty = confusion_matrix_figure(matrix.tolist()).data
    assert hits.text[3][3] == "1000" and hits.text[4][9] == ""
    assert mistakes.text[4][9] == "7" and mistakes.text[3][3] == "" and mistakes.text[0][1] == ""
    assert np.isnan(mistakes.z[0][1])  # an empty cell is not a zero-coloured mistake...
    assert empty.z[0][1] == 0 and empty.text[0][1] == ""  # ...but a faint square that takes a click
    assert np.isnan(empty.z[4][9]) and np.isnan(empty.z[3][3])
    assert mistakes.customdata[4][9] == 7 and empty.customdata[0][1] == 0
    assert list(hits.x) == list(range(10)) and list(hits.y) == list(range(10))


def test_reliability_diagram_shows_accuracy_per_bin_and_the_ece():
    bins = [{"lower": i / 10, "upper": (i + 1) / 10, "count": 10 * i, "accuracy": i / 10 if i else None,
             "confidence": (i + 0.5) / 10 if i else None} for i in range(10)]
    fig = reliability_figure({"bins": bins, "ece": 0.0123})
    accuracy, diagonal, counts = fig.data
    assert list(accuracy.y)[1:] == [b["accuracy"] for b in bins][1:]
    assert list(diagonal.x) == [0, 1] and list(counts.y) == [b["count"] for b in bins]
    assert "1.23%" in fig.layout.title.text


def test_feature_maps_tile_every_channel_scaled_to_its_own_maximum():
    maps = np.zeros((14, 14, 10))
    for c in range(10):
        maps[c, c, c] = c + 1.0
    trace = feature_maps_figure(maps, "conv3", columns=4)["data"][0]
    z, channel = typed_array(trace["z"]), typed_array(trace["customdata"])
    assert z.shape == channel.shape == (3 * 15 - 1, 4 * 15 - 1)
    assert trace["zmax"] == 255 and trace["colorscale"][-1] == [1.0, "white"]  # the gaps are white
    tiles = z <= 100
    for c in range(10):
        tile = z[tiles & (channel == c)]
        assert tile.max() == 100 and tile.size == 14 * 14  # whole percents of the channel's own maximum
        assert z[c // 4 * 15 + c, c % 4 * 15 + c] == 100  # where that channel responds
    assert (z[~tiles] == 255).all() and tiles.sum() == 10 * 14 * 14  # gaps and empty tiles
    assert (z[14, :] == 255).all() and (z[:, 14] == 255).all()  # a gap between rows and between columns


def test_heatmap_overlay_png_is_a_small_picture_hot_where_the_map_is():
    image = np.zeros((28, 28), np.uint8)
    heatmap = np.zeros((28, 28))
    heatmap[0, 0] = 1.0
    image[20, 20] = 200
    uri = heatmap_overlay_png(image, heatmap, opacity=1.0, scale=3)
    assert uri.startswith("data:image/png;base64,")
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert picture.shape == (84, 84, 3)
    red, green, blue = picture[1, 1]
    assert red > 100 and blue < 50  # jet's hot end
    assert list(picture[61, 61]) == [200, 200, 200]  # where the map is cold, the digit as it is


@pytest.mark.parametrize("height", [260, 300])
def test_message_figure_says_why_it_is_empty(height):
    fig = message_figure("Draw a digit", height)
    assert fig["layout"]["annotations"][0]["text"] == "Draw a digit"
    assert fig["layout"]["height"] == height and fig["data"] == []


def test_digit_and_overlay_pictures_for_previews_and_downloads():
    image = np.zeros((28, 28))
    image[14, 14] = 1.0
    picture = Image.open(io.BytesIO(base64.b64decode(digit_png(image, scale=2).split(",", 1)[1])))
    assert picture.size == (56, 56) and picture.getpixel((28, 28)) == 0 and picture.getpixel((0, 0)) == 255
    overlay = heatmap_overlay_picture(image, np.zeros((28, 28)), scale=10)
    assert overlay.size == (280, 280)
    assert png_bytes(overlay).startswith(b"\x89PNG")


def test_overlay_colours_are_opencvs_jet_looked_up():
    """The gallery's cards look as they did when each one called cv2.applyColorMap."""
    import cv2

    rng = np.random.default_rng(1)
    image, heatmap = rng.random((28, 28)), rng.random((28, 28))
    heat = heatmap.astype(np.float32)
    jet = cv2.applyColorMap(np.uint8(heat * 255), cv2.COLORMAP_JET)[..., ::-1].astype(np.float32) / 255.0
    alpha = 0.8 * heat[..., None]
    expected = np.uint8(np.clip((1.0 - alpha) * image.astype(np.float32)[..., None] + alpha * jet, 0.0, 1.0) * 255)
    assert np.array_equal(np.asarray(heatmap_overlay_picture(image, heatmap, scale=1)), expected)
