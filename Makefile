# Developer entry points; everything runs from the project virtualenv in .venv.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=
# Test processes (pytest-xdist); PYTEST_WORKERS=0 runs the tests in this one process.
PYTEST_WORKERS ?= 2

.PHONY: install venv run test schema bench clean app-libs app screenshots bench-app poppler docs-schools

install venv: $(INSTALLED)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Re-installs whenever pyproject.toml changes; also provides $(VENV)/bin/pvpp.
$(INSTALLED): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --upgrade pip
	$(VENV)/bin/pip install -e '.[test]'
	touch $@

run: $(INSTALLED)
	$(VENV)/bin/pvpp run

test: $(INSTALLED) app-libs poppler
	$(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The Kivy app's tests and screenshots draw in an offscreen SDL window through Mesa (EGL/GL).
# Kivy's wheel bundles SDL2 but not these Debian libraries: install them when root, else say how.
APP_LIBS := libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri
APP_LIBS_OPTIONAL := libmtdev1
app-libs:
	@if command -v dpkg >/dev/null 2>&1; then \
	  missing=""; for p in $(APP_LIBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  optional=""; for p in $(APP_LIBS_OPTIONAL); do dpkg -s $$p >/dev/null 2>&1 || optional="$$optional $$p"; done; \
	  if [ -n "$$missing$$optional" ] && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages for the app's offscreen window:$$missing$$optional"; \
	    (apt-get install -y --no-install-recommends $$missing $$optional >/dev/null 2>&1 || \
	     (apt-get update >/dev/null && apt-get install -y --no-install-recommends $$missing $$optional)) || \
	    { [ -z "$$missing" ] || { echo "apt-get could not install:$$missing"; exit 1; }; }; \
	  elif [ -n "$$missing" ]; then \
	    echo "The app's tests need Debian packages that are not installed:$$missing"; \
	    echo "Install them with:  sudo apt-get install -y$$missing$$optional"; exit 1; \
	  fi; \
	elif ! ldconfig -p | grep -q 'libEGL.so.1' || ! ldconfig -p | grep -q 'libGL.so.1'; then \
	  echo "The app's tests need EGL and OpenGL (Mesa) libraries: libEGL.so.1 and libGL.so.1 were not found."; exit 1; \
	fi

# Opens the app on the desktop against the server of `make run` (start that first, in another shell).
APP_SERVER ?= http://127.0.0.1:8000
app: $(INSTALLED)
	PVPP_APP_SERVER=$(APP_SERVER) \
	PVPP_APP_VERIFIER_KEY="$$(curl -sf $(APP_SERVER)/ledger/verifier-key || true)" \
	$(VENV)/bin/python -m mobile

# Screenshots of every screen in Korean and English (private server with demo data) into docs/app/.
screenshots: $(INSTALLED) app-libs
	SDL_VIDEODRIVER=offscreen $(VENV)/bin/python -m tests.mobile.tour docs/app
	SDL_VIDEODRIVER=offscreen PVPP_SCREENSHOTS=1 $(VENV)/bin/python -m pytest -q -p no:xdist tests/mobile/test_plug_pairing.py

# docs/schools: scoreboards, certificate (and a doctored copy), its verification page, the monthly
# report and the 1365/NEIS CSV, from the demo data through the API (the page needs Debian's chromium).
docs-schools: $(INSTALLED) poppler
	$(VENV)/bin/python -m tests.schools.documents docs/schools

bench-app: $(INSTALLED) app-libs
	$(VENV)/bin/pvpp bench app


# pdftoppm renders PDF pages for the certificate and report tests (Debian's poppler-utils);
# installed when missing and we may (root), otherwise those tests say so.
poppler:
	@command -v pdftoppm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; } || \
		echo "poppler-utils (pdftoppm) is not installed: PDF rendering tests will skip (fail under CI)"

schema: $(INSTALLED)
	$(VENV)/bin/pvpp export-schema

bench: $(INSTALLED)
	$(VENV)/bin/pvpp bench api

clean:
	rm -rf var .venv
