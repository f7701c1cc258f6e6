# kefu: `make run` for the demo, `make test` for the whole suite (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000

.PHONY: run test test-deps system-deps bench clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# Links in mail point where `make run` serves, unless KEFU_PUBLIC_URL says otherwise.
run: export KEFU_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
run: $(VENV)/.installed
	$(BIN)/kefu db upgrade
	$(BIN)/kefu demo --if-empty
	@echo
	@echo "kefu is serving at http://127.0.0.1:$(PORT)/  (API docs: http://127.0.0.1:$(PORT)/api/v1/docs)"
	@echo "staff console: http://127.0.0.1:$(PORT)/console/  (sign in with a demo login above)"
	@echo "jobs run in-process (no REDIS_URL); mail goes to the dev mail log instance/mail/*.eml (no SMTP_HOST)"
	$(BIN)/kefu run --host 127.0.0.1 --port $(PORT)

system-deps:
	bash scripts/system-deps.sh

test-deps: system-deps $(VENV)/.installed-test

test: test-deps
	bash scripts/run-tests.sh

bench: test-deps
	$(BIN)/python bench/api_bench.py

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis test-output

# Re-extract the texts marked for translation, merge them into the zh and en
# catalogs and compile them (the compiled .mo files are committed, so an
# install needs no build step). Fill in new texts, then run it again.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --no-location --sort-output \
	  --project kefu --copyright-holder kefu -o service/translations/messages.pot .
	$(BIN)/pybabel update -i service/translations/messages.pot -d service/translations \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d service/translations
