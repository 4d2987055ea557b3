# Laurel: `make run` serves the demo, `make test` runs every check and test.
# Each target creates .venv on first use; nothing else needs installing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test check bench bench-large schema migrations screenshots messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/laurel serve --seed-demo --demo

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m schema.check

# The suite on the embedded defaults and, when their URLs are set, on PostgreSQL + Redis.
# The two passes share nothing, so they run side by side (2 cores); the PostgreSQL
# pass's output follows the embedded one's.
PG_LOG := .pytest-postgres.log
test: check
	@mkdir -p .pytest-tmp; \
	if [ -n "$$LAUREL_TEST_DATABASE_URL" ] && [ -n "$$LAUREL_TEST_REDIS_URL" ]; then \
	  LAUREL_TEST_BACKEND=postgres $(BIN)/python -m pytest -rP -m "not embedded_only" \
	    --basetemp=.pytest-tmp/postgres --durations=5 >$(PG_LOG) 2>&1 & pg=$$!; \
	else pg=; echo "LAUREL_TEST_DATABASE_URL / LAUREL_TEST_REDIS_URL unset: PostgreSQL run skipped"; fi; \
	$(BIN)/python -m pytest -m "not postgres_only" --basetemp=.pytest-tmp/embedded --durations=5; \
	embedded=$$?; postgres=0; \
	if [ -n "$$pg" ]; then wait $$pg; postgres=$$?; \
	  echo "== on PostgreSQL + Redis =="; cat $(PG_LOG); fi; \
	test $$embedded -eq 0 && test $$postgres -eq 0

bench: $(STAMP)
	$(BIN)/python -m bench

# One 10,000,000-member board: memory, read latency, rebuild (several minutes; bench/large.py).
bench-large: $(STAMP)
	$(BIN)/python -m bench.large

# Rewrite schema/schema.graphql from the code (then commit it).
schema: $(STAMP)
	$(BIN)/python -m schema.check --write

# Screenshots of the community page and the consoles (1280 and 375 px; the first two in Bulgarian too).
screenshots: $(STAMP)
	$(BIN)/python -m tests.e2e.screenshots

# The API's messages: every msg()/msg_n() and API field name into server/locale/laurel.pot,
# then each language's .po updated from it (new entries empty, for the translators; then
# commit). The options are pyproject.toml's [tool.babel.*]; the pages' catalogs are
# frontend_stub/locales/*.json, edited by hand (README "Languages").
messages: $(STAMP)
	$(BIN)/pybabel extract -F pyproject.toml -k msg -k msg_n:1,2 -k pgettext:1c,2 \
	  --no-default-keywords --add-comments=Translators: --sort-output -w 100 \
	  --project=Laurel --copyright-holder=Laurel -o server/locale/laurel.pot .
	$(BIN)/pybabel update -i server/locale/laurel.pot -d server/locale -D laurel -w 100 \
	  --ignore-obsolete

# Generate a migration after changing models (then commit it).
migrations: $(STAMP)
	$(BIN)/tortoise makemigrations

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .pytest-tmp $(PG_LOG)
