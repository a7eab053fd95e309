# Two entry points: `make demo` (the main job) and `make test` (the test suite).
# Both set up everything first: a virtual environment with the project installed, and
# the bubblewrap sandbox (installed with apt when running as root and missing).

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test bench setup system-packages

demo: setup
	$(BIN)/dlgrade demo --out out

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/executors.py

setup: $(VENV)/.installed system-packages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

system-packages:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; \
	  else \
	    echo "WARNING: bubblewrap (bwrap) is missing; install it, or submissions run without a sandbox"; \
	  fi; }
