# The two commands: `make run` (the quick start, on a PostgreSQL of its own) and `make test` (the
# suite on PostgreSQL).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: install run run-stop test lint format bench bench-load stack stack-down clean

# The virtual environment, rebuilt when the requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Quick start: DEBUG on, demo data and a demo login. Without DATABASE_URL, on the quick start's
# own PostgreSQL (scripts/quickstart-postgres: var/quickstart-pg, 127.0.0.1:5440 or
# $QUICKSTART_PG_PORT), created on the first run, started if stopped, its data kept; the settings
# default to it. The background worker (manage.py worker) runs next to the dev server; Ctrl-C stops
# both (scripts/run-with-worker).
run: export DEBUG ?= 1
run: install
	@if [ -z "$$DATABASE_URL" ]; then scripts/quickstart-postgres start; fi
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --demo-login --host $(HOST)
	scripts/run-with-worker $(BIN)/python $(HOST)

# Stop the quick start's PostgreSQL (its data stays in var/quickstart-pg).
run-stop:
	scripts/quickstart-postgres stop

# The whole suite on PostgreSQL (see scripts/with-postgres). Pass options with PYTEST_ARGS="...".
test: install
	scripts/with-postgres scripts/with-redis $(BIN)/pytest $(PYTEST_ARGS)

# The back-office benchmark: 100,000 invoices on PostgreSQL (bench/README.md). BENCH_ARGS="--rebuild".
bench: install
	$(BIN)/python bench/backoffice.py $(BENCH_ARGS)

# Load on the payment endpoints under gunicorn (wrk), against a bare Django reference in the same
# run; its own database billing_load (bench/README.md). BENCH_ARGS="--quick" for a smoke run.
bench-load: install
	$(BIN)/python bench/load.py $(BENCH_ARGS)

# The production topology on this machine (docs/deploy.md): nginx on https://127.0.0.1:8443, two
# app servers, PgBouncer, a primary and its replica, Redis; data and logs in var/stack.
stack: install
	deploy/stack up

stack-down:
	deploy/stack down

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Keeps var/ (the quick start's PostgreSQL and its demo data, the stack's data) and says so.
clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
	@if [ -d var/quickstart-pg ]; then echo "make clean: kept var/quickstart-pg (the quick start's" \
	  "PostgreSQL and its demo data); to delete it: make run-stop && rm -rf var/quickstart-pg"; fi
