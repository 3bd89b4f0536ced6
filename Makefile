# The two commands: `make run` and `make test`. Everything else is what they stand on.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: run test lint translations messages db demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d hub/translations 2>&1 | grep -v '^$$' || true

db: $(STAMP) translations
	$(FLASK) db upgrade

demo: db
	$(FLASK) hub demo > /dev/null

## make run: set up, migrate, load demo data and serve on http://127.0.0.1:5000
## (the scheduler runs beside it: escalation sweep, e-mail outbox, reminders; Ctrl-C stops both)
run: demo
	@echo "Serving the hub on http://127.0.0.1:5000 with its scheduler (Ctrl-C stops both)"
	@$(FLASK) hub scheduler > instance/scheduler.log 2>&1 & scheduler=$$!; \
	  trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host 127.0.0.1 --port 5000

## make test: set up, lint, and run the tests (SQLite; PostgreSQL too when HUB_TEST_DATABASE_URL is set)
test: $(STAMP) translations lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

## make messages: extract the interface texts into the catalogues after changing templates or code
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o hub/translations/messages.pot .
	$(BIN)/pybabel update --ignore-obsolete -i hub/translations/messages.pot -d hub/translations

clean:
	rm -rf $(VENV) build instance/hub.sqlite3*

## Proof (README: "Proof: fuzzing, benchmarks, load, faults"); none of these runs in `make test`
## except the bounded fuzzing and the SQLite writers test.
.PHONY: fuzz bench load faults

## make fuzz: the API fuzzing of `make test` with many more cases per operation and role
fuzz: $(STAMP)
	HUB_FUZZ_EXAMPLES=$${HUB_FUZZ_EXAMPLES:-50} $(BIN)/pytest -p no:cacheprovider tests/test_fuzz_api.py

## make bench: the benchmarks, measured in one run, into build/bench.md (never part of `make test`)
bench: $(STAMP)
	$(BIN)/python -m bench.run

## make load: a bounded locust load test on 127.0.0.1 (gunicorn, PostgreSQL) into build/load.md; fails on any error
load: $(STAMP)
	$(BIN)/python -m bench.load

## make faults: eight SQLite writers for a minute; a gunicorn worker killed and PostgreSQL restarted mid-burst
faults: $(STAMP)
	env -u HUB_TEST_DATABASE_URL HUB_FAULT_SECONDS=60 HUB_FAULT_WRITERS=processes \
		$(BIN)/pytest -p no:cacheprovider tests/test_faults_sqlite_writers.py
	$(BIN)/python -m bench.faults
