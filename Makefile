# Two commands for users: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test train notebooks readme benchmark screenshots clean

$(STAMP): requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $(STAMP)

run: $(STAMP)  ## launch the app on http://127.0.0.1:7860 (or $$GRADIO_SERVER_PORT)
	$(BIN)/python app.py

test: $(STAMP)  ## the whole test suite (unit, API, notebooks in quick mode)
	$(BIN)/python -m pytest

train: $(STAMP)  ## retrain one task and rewrite its shipped artifacts: make train TASK=image_classification
	$(BIN)/python -m core.train $(TASK)

notebooks: $(STAMP)  ## re-execute every notebook in place (normal mode, no retraining)
	$(BIN)/python scripts/run_notebooks.py --in-place

readme: $(STAMP)  ## regenerate the README's metrics table from model_cards/*/metrics.json
	$(BIN)/python scripts/update_readme.py

benchmark: $(STAMP)  ## print latency figures for every task that has a benchmark
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

screenshots: $(STAMP)  ## every tab at 1366 and 390 px into build/screenshots/ (needs Chromium); fails on a visible error
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache
