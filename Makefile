# Every target creates .venv when it is missing; re-running is cheap (a stamp file
# remembers which pyproject.toml the environment was installed from).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.kit-installed

# JupyterLab refuses to start as root unless told; containers and CI machines often run as root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: report test lab stack-up stack-down clean-venv browser

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

report: $(STAMP)
	$(PY) -m kit report

test: $(STAMP) browser
	$(PY) -m pytest $(PYTEST_ARGS)

lab: $(STAMP)
	$(PY) -m kit stack up
	$(VENV)/bin/jupyter lab $(LAB_ARGS) notebooks/

stack-up: $(STAMP)
	$(PY) -m kit stack up

stack-down: $(STAMP)
	$(PY) -m kit stack down

clean-venv:
	rm -rf $(VENV)

# Headless Chromium for the report's browser test (Debian package); a no-op when present.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	  || echo "warning: could not install chromium (needs root and apt); the report's browser test will fail"
