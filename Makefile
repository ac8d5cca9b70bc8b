# The few verbs a newcomer needs. Each creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: run test quick check lint types imports bench lock clean

UV := uv==0.13.9
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet

# Every dependency at the version and hashes of requirements-dev.lock, then the project itself.
$(STAMP): pyproject.toml requirements-dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing qualiopi-bot and its tools into $(VENV) (log: $(VENV)/install.log)…"
	@$(BIN)/python -m pip install --upgrade pip > $(VENV)/install.log 2>&1
	@$(BIN)/python -m pip install --require-hashes -r requirements-dev.lock \
		>> $(VENV)/install.log 2>&1 || { tail -n 30 $(VENV)/install.log; exit 1; }
	@$(BIN)/python -m pip install --no-deps -e . >> $(VENV)/install.log 2>&1 || \
		{ tail -n 30 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

## lock: resolve the dependencies of pyproject.toml again, with hashes (uv, for a lock that
## holds on every Python and platform the project supports); commit both files
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet '$(UV)'
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev -o requirements-dev.lock

## run: start the bot (what exists of it)
run: $(STAMP)
	$(BIN)/qualiopi-bot run

## test: the whole suite: lint, types, import contracts, the tests (coverage measured on the
## fast ones, with a floor), then the slow ones
test: check
	$(BIN)/coverage run -m pytest -m "not slow"
	@printf 'Coverage of the fast tests (floor in pyproject.toml): '
	@$(BIN)/coverage report --format=total --precision=1
	$(BIN)/python -m pytest -m slow

## quick: the inner loop: the tests not marked slow (no lint, no types)
quick: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

## check: lint, format check, strict types and import contracts
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## bench: measure speed and memory (figures, not assertions); the load run takes minutes
bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.load --trainers 100 1000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
