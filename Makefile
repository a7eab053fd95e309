# Two entry points: `make demo` (the main job) and `make test` (the test suite).
# Both set up everything first: a virtual environment with the project installed, and
# the bubblewrap sandbox and Chromium for the page tests (installed with apt when
# running as root and missing).

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
	$(BIN)/python benchmarks/end_to_end.py
	$(BIN)/python benchmarks/executors.py

setup: $(VENV)/.installed system-packages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q autograder  # the sandboxed runner may not write its own
	touch $@

system-packages:
	@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "WARNING: missing system packages:$$missing (bubblewrap sandboxes submissions;" \
	         "chromium runs the report tests, which are skipped without it)"; \
	  fi; \
	fi
