# Two commands on a fresh machine (needs Python >= 3.11):
#   make run    set up .venv and open VectorOS
#   make test   set up .venv and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

# Python caches compiled modules unless told not to; some shells export
# PYTHONDONTWRITEBYTECODE, and then every test worker and every `vectoros` the tests start
# compiles the package (and pytest re-rewrites every test module) from source.
unexport PYTHONDONTWRITEBYTECODE

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/vectoros $(ARGS)

# Four workers (the Pilot tests wait on the app as much as they compute, so two cores
# keep four busy; each has its own Postgres schema); the 15 slowest tests at the end.
# mypy (~20 s on one core from cold) runs beside them, in the time the workers wait; a
# type error fails the target as a failing test does.
test: $(STAMP)
	$(BIN)/ruff check vectoros_tui tests benchmarks
	@$(BIN)/mypy > $(VENV)/mypy.log 2>&1 & types=$$!; \
	$(BIN)/python -m pytest -n 4 --dist worksteal --durations=15 $(PYTEST_ARGS); tests=$$?; \
	wait $$types; typed=$$?; echo "mypy:"; cat $(VENV)/mypy.log; \
	test $$tests -eq 0 && test $$typed -eq 0

lint: $(STAMP)
	$(BIN)/ruff check vectoros_tui tests benchmarks
	$(BIN)/mypy
	$(BIN)/ruff format --check vectoros_tui tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_forecast.py
	$(BIN)/python benchmarks/bench_store.py
	$(BIN)/python benchmarks/bench_tui.py
	$(BIN)/python benchmarks/bench_similar.py
	$(BIN)/python benchmarks/bench_serve.py
	$(BIN)/python benchmarks/bench_import.py

clean:
	rm -rf $(VENV) build *.egg-info
