# Developer entry points; everything runs from the project virtualenv in .venv.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install venv run test schema bench clean

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

test: $(INSTALLED)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

schema: $(INSTALLED)
	$(VENV)/bin/pvpp export-schema

bench: $(INSTALLED)
	$(VENV)/bin/pvpp bench api

clean:
	rm -rf var .venv
