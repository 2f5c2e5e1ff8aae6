# Two entry points on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
export DEEPEVAL_TELEMETRY_OPT_OUT := YES
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Let Python cache bytecode (some machines set PYTHONDONTWRITEBYTECODE): without it every xdist
# worker and every process a test starts recompiles the project and re-rewrites pytest's asserts.
unexport PYTHONDONTWRITEBYTECODE

# pytest-xdist workers: two per core by default (`make test PYTEST_WORKERS=1` runs serially). Many
# tests wait (on the sandbox's simulated clock, a server, a child process) rather than compute, so
# one worker per core leaves the cores idle half the time; docs/testing.md has the measurements.
NPROC := $(shell nproc 2>/dev/null || echo 2)
PYTEST_WORKERS ?= $(shell echo $$(( $(NPROC) * 2 )))
PYTEST := $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist worksteal
MYPY_LOG := $(VENV)/mypy.log

.PHONY: demo test test-fast coverage lint contracts typecheck pytest system-packages system-packages-start clean install

# The venv is made without pip and uv is put in it by the system's pip (`pip --python`, pip >= 22.3):
# ensurepip alone is 8 of a fresh machine's first 18 s (docs/testing.md). Where the system has no
# pip (or an older one), the venv gets its own with ensurepip, as `python3 -m venv` would give it.
$(PY):
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(PY) install -q -c constraints.txt uv 2>/dev/null || $(PY) -m ensurepip >/dev/null

# Re-install only when the dependency files change (idempotent and fast the second time).
# The pinned set is installed by uv (pinned in constraints.txt, itself installed by pip): it resolves
# and installs the same 150 packages as pip in 8 s instead of 114 s of CPU on a fresh machine
# (docs/testing.md). Where uv cannot be had, pip installs the same pins.
UV := $(VENV)/bin/uv
INSTALL = { { test -x $(UV) || $(PIP) install -q -c constraints.txt uv; } \
	&& $(UV) pip install --python $(PY) -q -c constraints.txt $(1); } \
	|| { $(PIP) --version >/dev/null 2>&1 || $(PY) -m ensurepip >/dev/null; $(PIP) install -q -c constraints.txt $(1); }

TEST_REQUIREMENTS := -e '.[test,evals]'

$(STAMP_RUN): $(PY) pyproject.toml constraints.txt
	$(call INSTALL,-e .)
	touch $@

$(STAMP_TEST): $(PY) pyproject.toml constraints.txt
	$(call INSTALL,$(TEST_REQUIREMENTS))
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(VENV)/bin/paramedic demo

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check .

contracts: $(STAMP_TEST)
	$(VENV)/bin/lint-imports

# mypy over every package (strict on tools/, agent/, graph/; settings in pyproject.toml).
typecheck: $(STAMP_TEST)
	$(VENV)/bin/mypy

# The programs the tests run for real (Prometheus, Alertmanager, Chromium, kubectl, PostgreSQL).
# Missing ones are installed with apt when run as root; otherwise this stops at once and prints the
# command that installs them. It does nothing when all are there. See tests/system_packages.py.
system-packages:
	@$(PYTHON) tests/system_packages.py

# `make test`'s form of the same check: it stops at once as above, but as root apt runs in the
# background (its output in $(SYSPKG_DIR)) beside the virtualenv install, lint, mypy and the bytecode
# warm-up, and `--wait` holds pytest until it has ended: a bare machine's ~20 s of apt overlap them.
SYSPKG_DIR := $(VENV)/system-packages
system-packages-start:
	@$(PYTHON) tests/system_packages.py --start $(SYSPKG_DIR)

pytest: system-packages $(STAMP_TEST)
	$(PYTEST) --durations=15

# A fresh clone has no bytecode: the xdist workers would all compile the same modules at once
# (98.7 CPU-s to collect cold against 50.6 warm). One collection compiles them first, beside mypy,
# once per venv (38 CPU-s; docs/testing.md); a collection error is left for pytest to report.
WARM_STAMP := $(VENV)/.bytecode-warm
WARM_BYTECODE = test -f $(WARM_STAMP) || { $(VENV)/bin/pytest -p no:xdist --collect-only -q -p no:cacheprovider \
	>/dev/null 2>&1; touch $(WARM_STAMP); }

# system-packages first: a machine that lacks a program fails before the long pip install (as root
# the install runs on in the background until pytest is about to start).
# mypy (minutes on a fresh clone, one core) runs beside pytest, its output held back and printed
# after pytest's; the target fails if either failed.
test: system-packages-start lint contracts $(STAMP_TEST)
	@{ $(VENV)/bin/mypy > $(MYPY_LOG) 2>&1; echo $$? > $(MYPY_LOG).rc; } & \
	mypy_pid=$$!; \
	$(WARM_BYTECODE); \
	$(PYTHON) tests/system_packages.py --wait $(SYSPKG_DIR) || { wait $$mypy_pid; exit 2; }; \
	$(PYTEST) --durations=15; pytest_rc=$$?; \
	wait $$mypy_pid; mypy_rc=$$(cat $(MYPY_LOG).rc); \
	echo "--- mypy (ran beside pytest) ---"; cat $(MYPY_LOG); \
	echo "pytest exit $$pytest_rc, mypy exit $$mypy_rc"; \
	test $$pytest_rc -eq 0 && test $$mypy_rc -eq 0

# The inner loop: everything but the end-to-end and slow tests and those that start programs
# (markers e2e, slow, process). One worker per core: what is left computes rather than waits, and a
# second worker per core would cost its collection (about 18 s of CPU) for nothing.
test-fast: system-packages $(STAMP_TEST)
	$(VENV)/bin/pytest -n $(NPROC) --dist worksteal -m "not e2e and not slow and not process" --durations=10

# Line coverage of the whole suite (docs/testing.md records the figures).
coverage: system-packages $(STAMP_TEST)
	$(PYTEST) --cov --cov-report=term:skip-covered

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
