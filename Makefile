# The test command is `make test` (what CI runs through .ci/run); see scripts/test.
.PHONY: venv test demo bench bench-service lint clean

VENV := .venv
STAMP := $(VENV)/.installed

venv: $(STAMP)

# Reinstalled only when pyproject.toml changes (or the venv is gone). The install is editable,
# so changes to the code need no reinstall; a new package in pyproject.toml does.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

test: venv
	scripts/test

# A script of the repository (demo/), not of the installed package: it writes files and runs
# the `jamsos` command installed in the venv.
demo: venv
	$(VENV)/bin/python demo/bekasi_2026.py

# The Bekasi-year benchmark (issue #4), on SQLite and PostgreSQL, then (with PostgreSQL) the
# service phase: results in bench/results/latest.json. Options through BENCH_ARGS, e.g.:
#   make bench BENCH_ARGS=--million                    # also 1,000,000 workers on PostgreSQL
#   make bench BENCH_ARGS="--workers 20000 --stores sqlite"
#   make bench BENCH_ARGS="--compare bench/results/baseline.json"
#   make bench BENCH_ARGS="--service-workers 200"      # or --no-service
BENCH_ARGS ?=
bench: venv
	$(VENV)/bin/python bench/run.py $(BENCH_ARGS)

# The service phase alone (`make bench` runs it too): 32 clients racing enrolments and
# payments through `jamsos serve` on PostgreSQL, with one key and with four eyes, beside the
# same enrolments through the CLI; results in bench/results/service.json. Options through
# SERVICE_BENCH_ARGS, e.g. "--workers 400".
SERVICE_BENCH_ARGS ?=
bench-service: venv
	$(VENV)/bin/python bench/service_phase.py $(SERVICE_BENCH_ARGS)

lint: venv
	$(VENV)/bin/ruff check conftest.py src projections cli web tests property_tests bench demo
	scripts/typecheck
	scripts/lint-imports --no-logo

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
