# The two commands of the README: `make run` (the whole pipeline, offline) and `make test`.
# Both bootstrap .venv idempotently: it is (re)installed only when pyproject.toml changed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
# Test worker processes (pytest-xdist): the suite mostly waits (Spark and Lambda start-ups, flights on the
# virtual clock), so three workers keep two cores busy. Each worker starts its own simulator.
TEST_WORKERS ?= 3
# loadgroup: a module whose fixtures outlive one test (a private simulator, a flight) stays on one worker,
# (tests/schedule.py); the order is ours, so xdist must not re-sort it.
TEST_DIST ?= --dist loadgroup --no-loadscope-reorder

# Python caches compiled modules (__pycache__, git-ignored) unless PYTHONDONTWRITEBYTECODE is set, as some
# sandboxes and CI images do: then every process of a run (the suite's ~650: xdist workers, cluster and Lambda
# workers, CLI subprocesses) compiles the project's modules again, and pytest rewrites every test module's
# asserts again in each worker. Measured on the suite: 838 → 755 CPU s, 532 → 462 s of wall (docs/performance.md).
export PYTHONDONTWRITEBYTECODE :=

.PHONY: run test test-full test-external test-backends lint check-java clean bench

$(STAMP): pyproject.toml
	@scripts/install.sh $(PYTHON) $(VENV)
	@touch $(STAMP)

check-java:
	@java -version >/dev/null 2>&1 || { echo "stepbricks needs Java 17+ for Spark: install it with 'sudo apt-get install -y openjdk-17-jre-headless' (or brew install openjdk@17)."; exit 1; }
	@v=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1); \
	  [ "$${v:-0}" -ge 17 ] || { echo "stepbricks needs Java 17+ for Spark, found Java $$v: install openjdk-17-jre-headless."; exit 1; }

run: $(STAMP) check-java
	$(BIN)/stepbricks run $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# --durations: CI logs name the slowest tests (cluster start-ups, flights), so a regression shows at once.
test: $(STAMP) check-java lint
	@scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(TEST_DIST) --durations=25 $(ARGS)

# The whole end-to-end suite against a `stepbricks up` in another process (--stepbricks-backend=external).
test-external: $(STAMP) check-java
	STEPBRICKS_EXTERNAL_E2E=all $(BIN)/python -m pytest tests/backends/test_external_backend.py $(ARGS)

# The reference pipeline on a Spark standalone cluster, a Spark Connect server and an MLflow tracking server,
# each started from the installed packages on 127.0.0.1 (tests/e2e/test_cluster_backends.py; part of `make test` too).
test-backends: $(STAMP) check-java
	$(BIN)/python -m pytest -m backends --durations=10 tests/e2e/test_cluster_backends.py $(ARGS)

# Also the on-demand reliability runs (random fault-plan experiments, the load test): ~70 s more of flights.
test-full: $(STAMP) check-java lint
	@scripts/ensure-chromium.sh
	STEPBRICKS_FULL=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) $(TEST_DIST) --durations=25 $(ARGS)

bench: $(STAMP) check-java
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .stepbricks .pytest_cache
