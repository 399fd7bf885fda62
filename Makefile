# movierec: the two commands a new user needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The CPU build of torch that lies on this machine's disk; other versions download GBs.
TORCH_PIN ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: demo test test-fast lint typecheck bench bench-full bench-scale browser postgres wrk clean help

help:
	@echo "make demo         create .venv, install, run 'movierec report' on the bundled data"
	@echo "make test         create .venv with the test extras, install what the tests need, run the suite"
	@echo "make lint         ruff + mypy"
	@echo "make docs         build the documentation site into site/ (mkdocs --strict)"
	@echo "make bench        quick side-by-side benchmarks (< 10 min), rewrites BENCHMARKS.md"
	@echo "make bench-full   every bench script in quick mode (report, tuning, Spark, soak too: ~40 min)"
	@echo "make bench-scale  synthetic 1M/5M/25M scale runs (< 45 min)"

# pip runs --quiet, so each long step says what it does first: a newcomer saw minutes of silence and
# thought make demo had hung (the echo lines are checked by tests/test_make_demo.py).
$(VENV)/bin/python:
	@echo "creating the virtual environment $(VENV) and updating pip in it"
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip wheel setuptools

# Core + what the demo report needs (the `report` extra: viz, and implicit for als). The other reference
# libraries, which pip builds from source for minutes, are for compare/bench/test (issue 16's 3-minute demo).
$(VENV)/.demo-installed: pyproject.toml setup.py src/movierec/models/kernels/_native.pyx | $(VENV)/bin/python
	@echo "installing movierec and its dependencies into $(VENV) (minutes the first time)"
	$(PIP) install --quiet -e '.[report]'
	@touch $@

# Everything the test suite exercises (all extras); torch pinned to the local CPU wheel first.
$(VENV)/.test-installed: pyproject.toml setup.py src/movierec/models/kernels/_native.pyx | $(VENV)/bin/python
	@echo "installing movierec, every extra and torch into $(VENV) (minutes the first time)"
	$(PIP) install --quiet '$(TORCH_PIN)'
	$(PIP) install --quiet -e '.[all]' '$(TORCH_PIN)'
	@touch $@

# Debian's chromium for the browser tests (never `playwright install`: it downloads a browser).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: browser tests will skip"; \
	  else echo "chromium missing and not root: browser tests will skip"; fi; \
	fi

# Debian's postgresql for the feedback-store tests (each test run starts its own throw-away cluster in a temp
# folder on a free loopback port, as the postgres user when run as root; nothing listens afterwards).
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's postgresql for the feedback-store tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	      || echo "could not install postgresql: PostgreSQL tests will skip"; \
	  else echo "postgresql missing and not root: PostgreSQL tests will skip"; fi; \
	fi

# Debian's wrk, the load generator of bench/bench_api.py (without it the bench falls back to a Python client).
wrk:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's wrk for the API benchmark"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
	      || echo "could not install wrk: bench_api.py uses its Python client"; \
	  else echo "wrk missing and not root: bench_api.py uses its Python client"; fi; \
	fi

# each xdist worker's OpenMP and BLAS threads (numba's are left alone: tests ask for 2 threads of it)
TEST_THREADS = OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

demo: $(VENV)/.demo-installed
	@echo "writing reports/demo/index.html: the demo's models fitted on ml-latest-small"
	$(VENV)/bin/movierec report --out reports/demo --force

# Three xdist workers on two cores: about a third of the suite's time is spent waiting (JVM and server
# start-ups, Chromium, subprocesses), so a third worker fills it. Fresh clones of one commit, same host
# state: -n 2 pytest 918 s, -n 3 731 s (all 2,428 passed). Groups (xdist_group) still keep a set on one worker.
# One OpenMP/BLAS thread per worker: three workers with two threads each oversubscribed the two cores. Fresh
# clones of one commit (2,745 tests): CPU time 20m38 s user against 23m27 s, pytest 830 s against 923 s
# (load 1-5 against 4-7, so the wall times flatter it; the CPU times do not depend on the load this much).
# make lint runs beside the suite, its output kept for the end: mypy's first check of a fresh clone is ~45 s
# of one core's time, and the suite leaves about a quarter of the two cores idle (JVM, server and Chromium
# start-ups), so the check fits in what the suite leaves. The run fails if either does.
test: $(VENV)/.test-installed browser postgres
	@echo "checking ruff and mypy (make lint) in the background; their output follows the suite's"
	@( $(LINT) ) > $(VENV)/lint.log 2>&1 & lint=$$!; \
	echo "running the whole test suite (minutes; make test-fast skips the slow tests)"; \
	$(TEST_THREADS) $(PY) -m pytest -n 3 --dist loadgroup -q $(PYTEST_ARGS); tests=$$?; \
	wait $$lint; linted=$$?; echo "make lint (mypy, ruff check, ruff format --check):"; \
	cat $(VENV)/lint.log; [ $$tests = 0 ] && [ $$linted = 0 ]

test-fast: $(VENV)/.test-installed
	$(TEST_THREADS) $(PY) -m pytest -n 2 -q -m "not slow and not browser and not spark" $(PYTEST_ARGS)

# The documentation site (mkdocs + mkdocstrings + mkdocs-jupyter) into site/; --strict fails on any warning.
# make test builds it too (tests/test_docs.py).
docs: $(VENV)/.test-installed
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# What make lint checks, as one shell command (make test runs it beside the suite).
LINT = $(PY) -m mypy && $(VENV)/bin/ruff check src tests bench && $(VENV)/bin/ruff format --check src tests bench

lint: $(VENV)/.test-installed
	$(LINT)

# mypy over src/ and bench/ (configured in pyproject.toml; ~10 s with its cache). make test runs it and ruff (lint) after the suite.
typecheck: $(VENV)/.test-installed
	$(PY) -m mypy

# The quick set (< 10 min here); bench-full adds the report, tuning, Spark, soak and sequence runs.
BENCH_QUICK ?= load eval explicit implicit api growth

bench: $(VENV)/.test-installed wrk
	$(PY) bench/run.py --quick --only $(BENCH_QUICK)

bench-full: $(VENV)/.test-installed wrk
	$(PY) bench/run.py --quick

bench-scale: $(VENV)/.test-installed
	$(PY) bench/run.py --scale

clean:
	rm -rf $(VENV) build dist .pytest_cache reports
