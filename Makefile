# Two entry points on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
export DEEPEVAL_TELEMETRY_OPT_OUT := YES
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lint contracts pytest clean install

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependency files change (idempotent and fast the second time).
$(STAMP_RUN): $(PY) pyproject.toml constraints.txt
	$(PIP) install -q -c constraints.txt -e .
	touch $@

$(STAMP_TEST): $(PY) pyproject.toml constraints.txt
	$(PIP) install -q -c constraints.txt -e '.[test,evals]'
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(VENV)/bin/paramedic demo

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check .

contracts: $(STAMP_TEST)
	$(VENV)/bin/lint-imports

pytest: $(STAMP_TEST)
	$(VENV)/bin/pytest

test: lint contracts pytest

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
