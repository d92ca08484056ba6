# Two commands on a fresh machine: `make run` (set up, build the demo, serve) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
DEMO_DB := data/demo.sqlite

.PHONY: help install dev run demo test bench clean

help:
	@echo "make run      set up .venv, build the demo database if missing, serve on :$(PORT)"
	@echo "make test     install the test requirements and run the whole suite"
	@echo "make install  only the virtual environment"
	@echo "make demo     (re)build the demo database"
	@echo "make bench    run the benchmarks in bench/"

# The stamp is rebuilt when requirements.txt changes.
$(VENV)/.installed: requirements.txt
	@$(PYTHON) scripts/check_python.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

install: $(VENV)/.installed

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

dev: $(VENV)/.dev-installed

# Built under a temporary name so an interrupted build never leaves a half demo behind.
$(DEMO_DB): | $(VENV)/.installed
	@rm -f $(DEMO_DB).tmp $(DEMO_DB).tmp-wal $(DEMO_DB).tmp-shm
	$(PY) -m dashboard demo --db sqlite:///$(DEMO_DB).tmp
	@mv $(DEMO_DB).tmp $(DEMO_DB)

demo: install
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(MAKE) $(DEMO_DB)

run: install
ifeq ($(strip $(DASHBOARD_DB_URL)$(DATABASE_URL)),)
	@$(MAKE) --no-print-directory $(DEMO_DB)
else
	@echo "serving $${DASHBOARD_DB_URL:-$$DATABASE_URL} (no demo built)"
	$(PY) -m dashboard db upgrade
endif
	$(PY) -m dashboard.serve --server.port $(PORT)

test: dev
	@bash scripts/ensure_chromium.sh
	@bash scripts/ensure_axe.sh
	$(PY) -m pytest

bench: dev
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
