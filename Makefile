# dexweb: `make demo` runs the product on embedded defaults, `make test` runs the whole suite.
# Both start from a fresh clone: they create .venv and install the project (and, for the browser
# tests, Debian's chromium) first.

# The first Python >= 3.11 that actually runs: python3.11 (a pyenv shim counts if it works),
# Debian's /usr/bin/python3.11, then python3. Override with `make PYTHON=/path/to/python3.x`.
PYTHON ?= $(shell for candidate in python3.11 /usr/bin/python3.11 python3; do \
	$$candidate -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& { echo $$candidate; break; }; done)
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test browser clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "make: Python 3.11 or newer is needed (Debian: apt-get install python3)" >&2; exit 1; }
	@# Debian's Python lacks ensurepip until python3-venv is installed.
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV) \
	  && echo "Installing Debian's python3-venv" \
	  && $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv \
	  && $(PYTHON) -m venv $(VENV); }

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Web (with the Dexcom emulator at /emulator), a Celery worker and beat, in the foreground until
# Ctrl-C. DEXWEB_PUBLIC_URL follows PORT (run_demo sets it for every process it starts).
demo: $(STAMP)
	$(BIN)/python manage.py run_demo --port $(PORT)

# The end-to-end tests drive Debian's Chromium; install it when it is missing.
browser:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# One pytest process per core (TEST_WORKERS=0 runs in this process); whole files go to one
# process so a module's seeded data set is built once, in the order tests/conftest.py gives
# them (files that start real processes or a browser first), not xdist's biggest-file-first.
TEST_WORKERS ?= auto
test: $(STAMP) browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var/*.sqlite3* var/staticfiles
