# Laurel: `make run` serves the demo, `make test` runs every check and test.
# Each target creates .venv on first use; nothing else needs installing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test check bench schema migrations screenshots clean

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

# The suite on the embedded defaults; again on PostgreSQL + Redis when their URLs are set.
test: check
	$(BIN)/python -m pytest -m "not postgres_only"
	@if [ -n "$$LAUREL_TEST_DATABASE_URL" ] && [ -n "$$LAUREL_TEST_REDIS_URL" ]; then \
	  echo "== again on PostgreSQL + Redis =="; \
	  LAUREL_TEST_BACKEND=postgres $(BIN)/python -m pytest -rP -m "not embedded_only"; \
	else echo "LAUREL_TEST_DATABASE_URL / LAUREL_TEST_REDIS_URL unset: PostgreSQL run skipped"; fi

bench: $(STAMP)
	$(BIN)/python -m bench

# Rewrite schema/schema.graphql from the code (then commit it).
schema: $(STAMP)
	$(BIN)/python -m schema.check --write

# Screenshots of the community page and the moderator console (1280 and 375 px).
screenshots: $(STAMP)
	$(BIN)/python -m tests.e2e.screenshots

# Generate a migration after changing models (then commit it).
migrations: $(STAMP)
	$(BIN)/tortoise makemigrations

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
