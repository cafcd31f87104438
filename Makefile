VENV ?= .venv
PY := $(VENV)/bin/python
SHARED_MNIST := $(abspath ../shared/data/mnist.npz)
export MNIST_NPZ ?= $(if $(wildcard $(SHARED_MNIST)),$(SHARED_MNIST),)
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: setup run test bench loadtest lint train evaluate migrate

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: setup
	$(PY) -m dashapp

# The field database to the newest schema (make run and gunicorn also do it at start-up).
migrate: setup
	$(PY) -m dashapp.field migrate

# Two pytest-xdist workers (one per core on the 2-core CI machine), a test module at a time on one
# worker so that module fixtures stay whole; each worker serves its browser tests on its own port.
test: setup
	DASH_TEST_CHROMEPATH=$${DASH_TEST_CHROMEPATH:-$$(command -v chromium || true)} \
	$(PY) -m pytest --headless -p no:cacheprovider -n 2 --dist loadfile --durations=20 tests

# MODEL=PATH_OR_NAME benches that model; by default ours, and the original app's seed_cnn beside it.
bench: setup
	$(PY) -m bench.model_bench $(if $(MODEL),--model $(MODEL),)
	$(PY) -m bench.serving_bench $(if $(MODEL),--model $(MODEL),)
	$(PY) -m bench.callback_bench $(if $(MODEL),--model $(MODEL),)
	$(PY) -m bench.browser_bench $(if $(MODEL),--model $(MODEL),)
	$(PY) -m bench.field_bench $(if $(MODEL),--model $(MODEL),)

lint: setup
	$(VENV)/bin/ruff check .

train: setup
	$(PY) -m train

evaluate: setup
	$(PY) -m train.evaluate

loadtest: setup
	$(PY) -m bench.loadtest
