# Every target sets up what it needs; a fresh machine needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Rasa Open Source 3.6 needs Python 3.10: pyenv's, or any python3.10 on PATH.
RASA_PYTHON ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.10*/bin/python) $(shell command -v python3.10 2>/dev/null))
RASA_VENV := .venv-rasa
RASA_STAMP := $(RASA_VENV)/.installed
RASA := RASA_TELEMETRY_ENABLED=false $(RASA_VENV)/bin/rasa

.PHONY: run test lint typecheck rasa-check bench bench-rasa nlu-report catalogs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/chargedesk start

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

# Benchmarks write their figures into BENCHMARKS.md (CI runs only seconds-long smoke versions, in tests/bench).
# Runs one after the other (the egress run alone takes about 20 minutes at Slack's pace). Set
# CHARGEDESK_BENCH_POSTGRES_URL to measure PostgreSQL as well (databases are created and dropped).
bench: $(STAMP)
	$(BIN)/python -m bench.engine_bench --write BENCHMARKS.md
	$(BIN)/python -m bench.startup_bench --write BENCHMARKS.md
	$(BIN)/python -m bench.ingress_bench --write BENCHMARKS.md $(if $(CHARGEDESK_BENCH_POSTGRES_URL),--postgres-url $(CHARGEDESK_BENCH_POSTGRES_URL))
	$(BIN)/python -m bench.turns_bench --write BENCHMARKS.md $(if $(CHARGEDESK_BENCH_POSTGRES_URL),--postgres-url $(CHARGEDESK_BENCH_POSTGRES_URL))
	$(BIN)/python -m bench.egress_bench --write BENCHMARKS.md
	$(BIN)/python -m bench.scale_bench --write BENCHMARKS.md $(if $(CHARGEDESK_BENCH_POSTGRES_URL),--postgres-url $(CHARGEDESK_BENCH_POSTGRES_URL))

# The same conversations through a real Rasa 3.6.21 server and the embedded engine (not part of CI).
# Intent classification, cross-validated, side by side with a real Rasa 3.6 DIET on the same folds (minutes per
# fold; Rasa's predictions are cached under var/nlu-report/ until the data or config.yml change).
nlu-report: $(STAMP) $(RASA_STAMP)
	$(BIN)/chargedesk nlu-report --rasa --write BENCHMARKS.md

bench-rasa: $(STAMP) $(RASA_STAMP)
	test -f var/rasa-models/chargedesk.tar.gz || $(MAKE) rasa-check
	$(BIN)/python -m bench.rasa_bench --write BENCHMARKS.md

# Gettext catalogs of the Python-side texts (portal/languages/texts.py): extract the marked texts (babel.cfg) into
# the template, then bring each language's catalog up to date with it, keeping its translations (new texts get an
# empty translation; a changed one a fuzzy guess, which counts as untranslated). Without line numbers and sorted, so
# that a diff shows only texts that changed; a template whose texts did not change is left as it is (its creation
# date alone would otherwise change every time). tests/unit/test_catalogs.py checks the result.
LOCALE_DIR := portal/languages/locale
POT := $(LOCALE_DIR)/chargedesk.pot
CATALOG_LANGUAGES := nl de fr

catalogs: $(STAMP)
	mkdir -p $(LOCALE_DIR)
	$(BIN)/pybabel extract --mapping-file babel.cfg --no-default-keywords \
		--keyword gettext --keyword ngettext:1,2 --keyword N_ --add-comments Translators: \
		--no-location --sort-output --project chargedesk --version 0.1.0 --copyright-holder chargedesk \
		--output-file $(POT).new .
	if test -f $(POT) && diff -q -I '^"POT-Creation-Date: ' $(POT) $(POT).new >/dev/null; \
		then rm $(POT).new; else mv $(POT).new $(POT); fi
	for language in $(CATALOG_LANGUAGES); do \
		$(BIN)/pybabel update --input-file $(POT) --output-dir $(LOCALE_DIR) --domain chargedesk \
			--locale $$language --init-missing --ignore-pot-creation-date || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Not part of `make test` (about 2.7 GB): run it whenever domain/, data/ or config.yml change.
$(RASA_STAMP):
	@test -n "$(RASA_PYTHON)" || { echo "rasa-check needs Python 3.10 (e.g. pyenv install 3.10)"; exit 1; }
	$(RASA_PYTHON) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install --quiet --upgrade pip 'setuptools<70' wheel
	$(RASA_VENV)/bin/python -m pip install --quiet 'rasa==3.6.21'
	touch $(RASA_STAMP)

rasa-check: $(RASA_STAMP)
	$(RASA) data validate --domain domain --data data --config config.yml
	$(RASA) train --domain domain --data data --config config.yml --out var/rasa-models --fixed-model-name chargedesk

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
