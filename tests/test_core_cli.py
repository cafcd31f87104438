"""``python -m models predict ... --json``: one JSON line per image, errors per file, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "models", "predict", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory, mnist_test):
    x, y = mnist_test
    folder = tmp_path_factory.mktemp("digits")
    files = []
    for index in (0, 1):  # a 7 and a 2, as dark ink on white paper, blown up
        path = folder / f"digit{index}.png"
        Image.fromarray(255 - x[index]).resize((140, 140), Image.BICUBIC).save(path)
        files.append((path, int(y[index])))
    return files


def test_predict_json_lines_in_order_with_errors(digit_files, tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_text("this is text, not a picture")
    missing = tmp_path / "missing.png"
    (first, digit_a), (second, digit_b) = digit_files
    result = run_cli(str(first), str(junk), str(missing), str(second), "--layer", "conv3", "--json")
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(first), str(junk), str(missing), str(second)]
    assert "not an image" in lines[1]["error"] and "cannot read" in lines[2]["error"]
    for line, digit in ((lines[0], digit_a), (lines[3], digit_b)):
        assert line["top"][0]["digit"] == digit
        assert len(line["top"]) == 3
        probabilities = [t["probability"] for t in line["top"]]
        assert probabilities == sorted(probabilities, reverse=True)
        assert np.array(line["input"]).shape == (28, 28)
        heatmap = np.array(line["explanation"]["heatmap"])
        assert heatmap.shape == (28, 28) and heatmap.min() >= 0 and heatmap.max() <= 1
        assert line["explanation"]["method"] == "gradcam" and line["explanation"]["layer"] == "conv3"
        assert line["explanation"]["class"] == digit


def test_predict_all_good_exits_zero_and_bad_model_is_one_sentence(digit_files, tmp_path):
    path, digit = digit_files[0]
    result = run_cli(str(path), "--method", "layercam", "--class", "3", "--json")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["explanation"]["method"] == "layercam" and line["explanation"]["class"] == 3
    assert line["top"][0]["digit"] == digit
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 not really a keras archive")
    result = run_cli(str(path), "--model", str(broken), "--json")
    assert result.returncode == 2 and str(broken) in result.stderr and "python -m train" in result.stderr
    assert "Traceback" not in result.stderr


def test_model_is_a_path_or_a_name_and_a_refused_one_is_one_sentence(digit_files, refused_models):
    path, digit = digit_files[0]
    result = run_cli(str(path), "--model", "seed_cnn", "--json")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["top"][0]["digit"] == digit and line["explanation"]["layer"] == "conv2d_1"
    result = run_cli(str(path), "--model", "lenet", "--json")
    assert result.returncode == 2 and "No model named 'lenet'" in result.stderr and "seed_cnn" in result.stderr
    result = run_cli(str(path), "--model", str(refused_models["lambda"]), "--json")
    assert result.returncode == 2 and "Lambda layer" in result.stderr and str(refused_models["lambda"]) in result.stderr
    error = next(line for line in result.stderr.splitlines() if line.startswith("error: "))
    assert "Traceback" not in result.stderr and error.endswith("`python -m train`.")  # the whole sentence, one line
