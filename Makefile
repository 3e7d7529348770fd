# make demo: set up .venv and run the whole pipeline on the bundled real data (outputs in demo-output/)
# make test: set up .venv and run the test suite (all but the slow end-to-end tests: make test-slow, make test-all)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mrcnn-installed

.PHONY: install test test-slow test-all demo demo-quick bench clean reproduce galaxy-test galaxy-lint lint man dist slurm-test

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.py $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# the Python tests only (Galaxy tooling: make galaxy-lint, make galaxy-test)
test: install lint
	$(PY) -m pytest -q -m "not slow" --durations=10 tests

# trains networks, runs the demo, worker clusters and package builds: minutes; CI runs it after make test
test-slow: install
	$(PY) -m pytest -q -m slow --durations=10 tests

test-all: test test-slow

# planemo in its own venv: its Galaxy libraries pin versions that need not match ours
PLANEMO := .venv-planemo/bin/planemo
$(PLANEMO):
	$(PYTHON) -m venv .venv-planemo
	.venv-planemo/bin/pip install -q --upgrade pip
	.venv-planemo/bin/pip install -q planemo

# ruff (ruff.toml): pyflakes, pycodestyle, import order, imports at the top (only the heavy libraries inside
# functions), no relative imports; and the format. The ruff version comes with the test extras (setup.py)
LINTED := mrcnn_tools tests benchmarks examples man test-data galaxy
lint: install
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)

galaxy-lint: $(PLANEMO)
	$(PLANEMO) lint --fail_level warn --skip_file galaxy/.lint_skip galaxy/
	$(PLANEMO) workflow_lint --iwc --fail_level warn galaxy/workflows/

demo: install
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh demo-output

demo-quick: install
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" QUICK=1 bash examples/demo.sh demo-output

bench: install
	$(PY) benchmarks/encode.py
	$(PY) benchmarks/train.py
	$(PY) benchmarks/predict.py
	$(PY) benchmarks/scale.py
	$(PY) benchmarks/motifs.py --sites 16000 --per-group 1000 --methods attribution,activation,control
	$(PY) benchmarks/strand.py
	$(PY) benchmarks/impute.py

clean:
	rm -rf demo-output build *.egg-info

reproduce: install
	$(PY) examples/reproduce.py

man: install
	PY=$(PY) bash man/build.sh

galaxy-test: install galaxy-lint
	bash galaxy/run-tests.sh

# Galaxy with its web client in headless Chromium (Debian chromium + chromium-driver, installed when missing; Selenium):
# uploads typed as users get them, the five tool forms, the workflow run; screenshots in galaxy/screenshots/
.PHONY: galaxy-browser-test
galaxy-browser-test: install
	bash galaxy/run-browser-tests.sh

# a one-node Slurm cluster on localhost (Slurm installed from Debian packages when absent: root or sudo) runs
# examples/slurm/: a 4-task job array predicting chr20 + merge, and a 2-task multi-worker training
slurm-test: install
	bash tests/slurm/run.sh

# sdist + wheel of the last commit (pinned build tools in build/dist-venv, reproducible sdist), twine check,
# contents check, sha256 written into recipe/meta.yaml: commit that file afterwards
dist:
	$(PYTHON) recipe/make_dist.py
