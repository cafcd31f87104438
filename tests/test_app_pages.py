"""The layers and evaluation pages without a browser: their words for charts, gallery cards, the shell."""

from __future__ import annotations

import base64
import io

import numpy as np
from dash import dcc, html
from PIL import Image

from callbacks.evaluation import calibration_summary, confusion_matrix_summary, sample_card
from callbacks.layers import feature_maps_summary
from dashapp import INDEX_STRING
from layouts import ids
from layouts.shell import described_graph, navbar


def test_confusion_matrix_summary_names_the_commonest_mistakes():
    matrix = np.diag(np.full(10, 1000))
    matrix[6, 1], matrix[4, 9], matrix[2, 7], matrix[3, 5] = 5, 3, 3, 1
    text = confusion_matrix_summary(matrix.tolist())
    assert text.startswith("Confusion matrix of 10,012 test digits: 10,000 read correctly, 12 wrong.")
    assert text.endswith("Commonest mistakes: 6 read as 1 (5); 2 read as 7 (3); 4 read as 9 (3).")
    assert confusion_matrix_summary(np.diag(np.full(10, 5)).tolist()).endswith("50 read correctly, none wrong.")


def test_calibration_summary_gives_the_ece_and_each_filled_bin():
    bins = [{"lower": i / 10, "upper": (i + 1) / 10, "count": 0, "accuracy": None} for i in range(10)]
    bins[9].update(count=9800, accuracy=0.999)
    bins[6].update(count=12, accuracy=0.5)
    text = calibration_summary({"bins": bins, "ece": 0.0012})
    assert text.startswith("Reliability diagram, expected calibration error 0.12%.")
    assert "confidence 0.6 to 0.7: 12 digits, 50.0% right; confidence 0.9 to 1.0: 9,800 digits, 99.9% right" in text
    assert "0.0 to 0.1" not in text  # empty bins are left out


def test_feature_maps_summary_names_the_strongest_channels():
    maps = np.zeros((14, 14, 8))
    maps[3, 3, 5], maps[0, 0, 2], maps[7, 7, 6] = 3.0, 2.0, 1.0
    assert feature_maps_summary(maps, "conv3") == ("Feature maps of conv3: 8 channels of 14 by 14 pixels for the "
                                                   "digit last read. The channels that respond most are 5, 2, 6.")
    assert feature_maps_summary(np.zeros((7, 7, 4)), "conv1").endswith("No channel responds to it.")


def test_gallery_card_links_to_the_predict_page_with_a_readable_map():
    sample = {"index": 2654, "true": 6, "predicted": 1, "confidence": 0.87, "image": np.zeros((28, 28)).tolist()}
    card = sample_card(sample, np.zeros((28, 28)))
    assert isinstance(card, dcc.Link) and card.href == "/?test=2654"
    image, caption = card.children.children
    assert caption.children == "#2654: a 6 read as 1 (87%)"
    assert "Grad-CAM map of 1" in image.alt
    png = Image.open(io.BytesIO(base64.b64decode(image.src.split(",", 1)[1])))
    assert png.size == (112, 112)  # drawn at the size it is shown, not blown up by the browser


def test_navbar_folds_into_a_menu_and_charts_carry_their_words():
    bar = navbar([{"name": "Layers", "relative_path": "/layers", "path": "/layers"}])
    assert bar.expand == "lg"  # five pages and the model menu need 992 px
    toggler, collapse = bar.children.children[1:]
    assert toggler.id == ids.NAV_TOGGLER and collapse.id == ids.NAV_COLLAPSE and collapse.is_open is False
    assert '<html lang="en">' in INDEX_STRING

    figure = described_graph(dcc.Graph(id="g"), "g-summary")
    shown, caption = figure.children
    assert isinstance(caption, html.Figcaption) and caption.id == "g-summary"
    assert getattr(shown, "aria-hidden") == "true"
