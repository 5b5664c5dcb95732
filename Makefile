# Two commands for a newcomer: `make run` (the pipeline, once) and `make test` (the suite).
# Everything is installed into .venv from the locked requirements; nothing global.
PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
UV := .tools/bin/uv
# Airflow runs from the project folder: SQLite metadata in .airflow/, DAGs from dags/.
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER ?= $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER ?= $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False

.PHONY: install run test lint airflow lock clean browser

install: $(VENV)/.installed

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: requirements.lock pyproject.toml | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip sync --python $(VENV)/bin/python requirements.lock
	$(UV) pip install --quiet --python $(VENV)/bin/python --no-deps -e .
	touch $@

$(AIRFLOW_HOME)/airflow.db: $(VENV)/.installed
	@mkdir -p $(AIRFLOW_HOME)
	@echo "Setting up Airflow's metadata database ($(AIRFLOW_HOME)/airflow.db, once; log: $(AIRFLOW_HOME)/db-migrate.log)"
	@$(VENV)/bin/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (tail -20 $(AIRFLOW_HOME)/db-migrate.log; exit 1)

# One run of ofsted_ingest through Airflow (dag.test), then its summary. The site is checked
# first: without a route to it, one line says why within seconds, before Airflow is set up.
run: install
	@$(VENV)/bin/python scripts/run_dag.py --check-only
	@$(MAKE) -s --no-print-directory $(AIRFLOW_HOME)/airflow.db
	@$(VENV)/bin/python scripts/run_dag.py --no-check $(if $(CONF),--conf '$(CONF)')

# Airflow's UI and scheduler on http://localhost:8080 (login printed at start-up); the ratings
# view is under "Ofsted ratings" in its navigation.
airflow: install $(AIRFLOW_HOME)/airflow.db
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" airflow standalone

# The view's browser test drives Debian's chromium; install it where missing (CI may be a fresh
# machine). Only as root with apt-get; elsewhere the test says it skipped.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
	    > .browser-install.log 2>&1 || (tail -20 .browser-install.log; exit 1); \
	else echo "chromium and chromium-driver are missing (apt-get install chromium chromium-driver): the browser test will skip"; fi

# Three workers on two cores: many tests wait on Airflow, servers and child processes (8:01 with
# two workers, 7:39 with three, on a quiet 2-core machine); the ten slowest are printed at the end.
# The lint runs first: it takes about a second.
test: install browser lint
	$(VENV)/bin/python -m pytest -n 3 --dist loadgroup --durations=10 $(PYTEST_ARGS)

# The linter and the formatter's check, with the rules in pyproject.toml ([tool.ruff]).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lock: | $(UV)
	$(UV) pip compile pyproject.toml --all-extras --generate-hashes --no-emit-index-url \
	  --no-emit-find-links --python $(PYTHON) --python-version 3.11 \
	  --custom-compile-command "make lock" -o requirements.lock

clean:
	rm -rf $(VENV) .tools
