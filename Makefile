# Everyday tasks. The gettext workflow is extract → update → (translate) → compile.
PY ?= .venv/bin/python
PYBABEL ?= .venv/bin/pybabel

.PHONY: demo test extract update compile lint bench

demo:
	$(PY) -m bot demo

test:
	$(PY) -m pytest -q

extract:
	$(PYBABEL) extract -F babel.cfg --no-location --sort-output --project=cnscd-bot \
		--msgid-bugs-address=none -k N_ -o locales/messages.pot .

update: extract
	$(PYBABEL) update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching \
		--ignore-obsolete

compile:
	$(PYBABEL) compile -d locales -D messages --statistics

lint:
	$(PY) -m ruff check .
	$(PY) -m mypy bot handlers storage

bench:
	$(PY) -m benchmarks
