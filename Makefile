# Developer entry points; everything runs from the project virtualenv in .venv.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install venv run test schema bench clean poppler

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

test: $(INSTALLED) poppler
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

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
