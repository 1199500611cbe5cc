# The targets CI calls too: serve, test, lint, bench.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test test-sqlite test-postgres lint format bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/confero demo --url http://127.0.0.1:$(PORT)
	$(BIN)/confero serve --host 127.0.0.1 --port $(PORT)

# The whole suite: SQLite, then a throw-away PostgreSQL cluster started from the local binaries
# (scripts/run_suite.py, scripts/pgcluster.py). CONFERO_REQUIRE_POSTGRES=1 (set by .ci/run) turns a
# missing PostgreSQL into a failure. ARGS go to pytest: `make test ARGS='-k event -x'`.
test: $(STAMP)
	$(BIN)/python scripts/run_suite.py $(ARGS)

test-sqlite: $(STAMP)
	env -u DATABASE_URL $(BIN)/python -m pytest $(ARGS)

test-postgres: $(STAMP)
	$(BIN)/python scripts/pgcluster.py $(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: $(STAMP)
	$(BIN)/confero docs --out docs/api-reference.md

bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(ARGS)

clean:
	rm -rf $(VENV) var build *.egg-info
