"""Shared fixtures. Tests never download: MNIST comes from MNIST_NPZ (default ../shared/data)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MNIST_NPZ", str(ROOT.parent / "shared" / "data" / "mnist.npz"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Field records made by tests go to a throwaway SQLite file, never to the repository's instance/.
os.environ.setdefault("DIGIT_INSPECTOR_DATABASE_URL",
                      "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="field-tests-"), "field.db"))

pytest_plugins = ["field_fixtures"]  # postgres (a throwaway cluster) and field_url (SQLite and PostgreSQL)

# CI sets REQUIRE_BROWSER=1 so that a missing Chromium fails the run instead of skipping tests.
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
CHROME = os.environ.get("DASH_TEST_CHROMEPATH") or shutil.which("chromium") or shutil.which("chromium-browser")
# Browser tests serve the app on this port: set DASH_TEST_PORT to run two suites side by side. Under
# pytest-xdist (`make test` runs two workers) worker gwN serves on the port N above it.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
DASH_TEST_PORT = int(os.environ.get("DASH_TEST_PORT") or 8050) + _WORKER


def pytest_collection_modifyitems(config, items):
    browser_tests = [item for item in items if "dash_duo" in getattr(item, "fixturenames", ())]
    if not browser_tests or (CHROME and shutil.which("chromedriver")):
        return
    reason = "Chromium and chromedriver are needed for browser tests (apt-get install -y chromium chromium-driver)"
    if REQUIRE_BROWSER:
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but no browser: {reason}")
    for item in browser_tests:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def digit_model():
    """The shipped model (or DIGIT_INSPECTOR_MODEL's), loaded once per test session."""
    from models import DEFAULT_MODEL_PATH
    from models.inference import DigitModel

    return DigitModel.load(os.environ.get("DIGIT_INSPECTOR_MODEL") or DEFAULT_MODEL_PATH)


@pytest.fixture(scope="session")
def mnist_test():
    """MNIST test images (uint8, N x 28 x 28) and labels."""
    from models.mnist import load_mnist

    _, _, x_test, y_test = load_mnist()
    return x_test, y_test


@pytest.fixture(scope="session")
def dash_app():
    """The Dash app, created once per session: ``@dash.callback`` registers callbacks globally
    and the first app to serve a request takes them all."""
    from dashapp import create_app

    return create_app()


@pytest.fixture(scope="session")
def model_zoo(tmp_path_factory):
    """Small models of every accepted shape (``tests/model_zoo.py``), briefly trained: name -> file.

    Built once for the whole run: under pytest-xdist the workers share one folder (the first builds,
    the others wait on a lock and take its files), so each model's not-a-digit fit, written next to
    it, is made once too.
    """
    from model_zoo import build_zoo, zoo_files

    from models.report import file_lock

    shared = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        shared = shared.parent  # the run's folder, above each worker's own
    folder = shared / "zoo-shared"
    with file_lock(shared / "zoo-shared.lock"):
        if not (folder / "built").exists():
            folder.mkdir(exist_ok=True)
            build_zoo(folder)
            (folder / "built").touch()
    return zoo_files(folder)


@pytest.fixture(scope="session")
def refused_models(tmp_path_factory):
    """Files that are not digit models (Lambda layer, random bytes, 5 outputs...): name -> file."""
    from model_zoo import build_refused

    return build_refused(tmp_path_factory.mktemp("refused"))


_LOADED: dict = {}


@pytest.fixture(scope="session", params=["digit_cnn", "seed_keras", "functional_fused", "conv_bn_relu_blocks",
                                         "nested_sequential"])
def any_model(request, model_zoo, digit_model):
    """Each model the formula and faithfulness tests run over: the shipped CNN and every zoo model but
    ``seed_h5``, the very network of ``seed_keras`` saved as HDF5 (its loading is checked in test_any_model,
    the shipped seed_cnn.h5 wherever it is named)."""
    from models.inference import DigitModel

    if request.param == "digit_cnn":
        return digit_model
    if request.param not in _LOADED:
        _LOADED[request.param] = DigitModel.load(model_zoo[request.param])
    return _LOADED[request.param]
