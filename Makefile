# Kestrel support bot. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
PY310 ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.10.*/bin/python3.10))),python3.10)
PY311 ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.11.*/bin/python3.11))),python3.11)
APP := .venv/bin/python
RASA := .venv-rasa/bin/rasa
# pip prints one warning per package for this machine's unused local indexes; keep real errors.
PIP_FILTER := 2>&1 | { grep -v '^WARNING: Location' || true; }; test $${PIPESTATUS[0]} -eq 0
KB_SOURCES := $(shell find data/kb -type f 2>/dev/null)
RASA_DATA := config.yml domain.yml $(wildcard data/*.yml)
WIDGET_SOURCES := $(shell find widget/src -type f 2>/dev/null) widget/build.mjs widget/package.json
WIDGET_BUNDLE := bot/web/static/widget/kestrel-widget.js
# all-MiniLM-L6-v2 adapted to data/kb (bot/kb/adapt.py): made once, when missing; `make adapt`
# makes it again after large changes to the articles.
ADAPTED_MODEL := models/kb-embedder/adaptation.json
# The embedding models' ONNX exports: the action server embeds questions with the adapted one, the
# Rasa server's MiniLM featurizer (config.yml) embeds every message with it; the NLU benchmarks use
# the stock one.
ONNX_MODEL := models/onnx/.exported
# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
CHROMIUM := /usr/bin/chromium
# nginx in front of two Rasa servers in the scale-out tests (docs/deploy.md)
NGINX := /usr/sbin/nginx
# Debian's dictionary, WordNet and manuals: a million real passages for `bench kb-real --corpus
# debian-docs` (bot/bench/doc_corpus.py); the first package's file stands for all of them.
DEBIAN_DOCS := /usr/share/dictd/gcide.dict.dz
DEBIAN_DOC_PACKAGES := dict-gcide wordnet-base python3.11-doc linux-doc-6.1 fortunes perl-doc git-doc \
	postgresql-doc-15 python-django-doc rust-doc openjdk-17-doc
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: .venv/.installed .venv-rasa/.installed $(ADAPTED_MODEL) kb_index/meta.json $(ONNX_MODEL) models/kestrel.tar.gz $(WIDGET_BUNDLE) ## install both environments, build the KB index, the chat widget, train the model (only what is missing or stale)

run: setup ## set up what is missing, then start Rasa, the action server and the helpdesk (Ctrl-C stops all)
	@$(APP) -m bot run

shell: setup ## chat with the bot in this terminal
	@$(APP) -m bot chat

test: setup $(CHROMIUM) $(NGINX) ## run the whole test suite (browser and scale-out tests included)
	$(APP) -m pytest

lint: .venv/.installed ## ruff and mypy
	.venv/bin/ruff check bot actions channels tests nlu_components eval
	.venv/bin/ruff format --check bot actions channels tests nlu_components eval
	.venv/bin/mypy bot

eval: setup ## quality figures: KB retrieval and decision, the same questions through the whole bot, routing, NLU cross-validation (NLU benchmarks: make eval-nlu)
	$(APP) -m bot kb eval --json docs/figures/kb_eval.json --plot docs/figures/kb_threshold_curve.png
	$(APP) -m bot kb eval-bot --json docs/figures/kb_eval_whole_bot.json
	$(APP) -m bot routing eval --json docs/figures/routing_eval.json
	$(RASA) test nlu --nlu data/nlu.yml --config config.yml --cross-validation --folds 3 --out results/nlu-cv

# Each run trains Rasa with one TensorFlow thread (the benchmark sets it) so other jobs keep a core.
eval-nlu: setup ## NLU on CLINC150 and HINT3 beside published rows (docs/benchmarks.md); about 4 hours on 2 busy cores
	$(APP) -m bot nlu-bench clinc150 --out docs/figures/nlu_clinc150.json
	$(APP) -m bot nlu-bench clinc150 --config eval/nlu_configs/minilm_light.yml --out docs/figures/nlu_clinc150_minilm_light.json
	$(APP) -m bot nlu-bench clinc150 --classifier minilm-lr --out docs/figures/nlu_clinc150_minilm_lr.json
	$(APP) -m bot nlu-bench clinc150 --config eval/nlu_configs/minilm_lr.yml --out docs/figures/nlu_clinc150_minilm_lr_rasa.json
	$(APP) -m bot nlu-bench clinc150 --config eval/nlu_configs/minilm_lr_sparse.yml --out docs/figures/nlu_clinc150_minilm_lr_sparse.json
	$(APP) -m bot nlu-bench hint3 --out docs/figures/nlu_hint3.json
	$(APP) -m bot nlu-bench hint3 --config eval/nlu_configs/minilm_light.yml --out docs/figures/nlu_hint3_minilm_light.json
	$(APP) -m bot nlu-bench hint3 --config eval/nlu_configs/minilm.yml --out docs/figures/nlu_hint3_minilm.json
	$(APP) -m bot nlu-bench hint3 --classifier minilm-lr --out docs/figures/nlu_hint3_minilm_lr.json
	$(APP) -m bot nlu-bench hint3 --config eval/nlu_configs/minilm_lr.yml --out docs/figures/nlu_hint3_minilm_lr_rasa.json
	$(APP) -m bot nlu-bench hint3 --config eval/nlu_configs/minilm_lr_sparse.yml --out docs/figures/nlu_hint3_minilm_lr_sparse.json

bench: setup $(NGINX) $(DEBIAN_DOCS) ## speed and scale figures for docs/benchmarks.md (long: builds 1M-chunk indexes, embeds 1M passages)
	$(APP) -m bot bench conversations --stock-rasa var/bench/stock_rasa --out docs/figures/conversations.json
	$(APP) -m bot bench kb-scale --out docs/figures/kb_scale.json
	$(APP) -m bot bench kb-search-scale --out docs/figures/kb_search_scale.json
	$(APP) -m bot bench kb-real --out docs/figures/kb_real.json
	# About 80 minutes the first time (embedding); the vectors are kept in var/ for the next run.
	$(APP) -m bot bench kb-real --corpus debian-docs --size 1000000 --generators layered \
		--vectors var/bench/debian_docs_1m.npy --out docs/figures/kb_real_debian_1m.json
	$(APP) -m bot bench embedding --out docs/figures/embedding.json
	$(APP) -m bot bench tickets --out docs/figures/tickets.json
	$(APP) -m bot bench plots --dir docs/figures
	# Several Rasa servers (docs/deploy.md): one and two on PostgreSQL and Redis behind nginx, beside one on SQLite.
	for n in 0 1 2; do $(APP) -m bot bench conversations --levels 10 --duration 30 --sequential-duration 0 \
		--closed-duration 30 --min-noop-answers 0 --channels rest --behind-nginx $$n --out docs/figures/scale_out/n$$n.json \
		|| exit 1; done

screenshots: setup $(CHROMIUM) ## screenshots in docs/screenshots/ (the widget on desktop and phone, the console's Help centre page), from the browser tests
	KESTREL_SCREENSHOTS=docs/screenshots $(APP) -m pytest -q tests/browser -k "question_ticket or phone or help_centre_page"

widget: $(WIDGET_BUNDLE) ## build the chat widget (npm ci, then esbuild into bot/web/static/widget/)

index: kb_index/meta.json ## build or update the KB index from data/kb

adapt: .venv/.installed ## adapt the embedding model to data/kb again (then `make setup` re-embeds and retrains)
	$(APP) -m bot kb adapt

train: models/kestrel.tar.gz ## train the Rasa model if its data changed

.venv/.installed: requirements.txt requirements-dev.txt
	test -x .venv/bin/python || $(PY311) -m venv .venv
	.venv/bin/pip install -q --upgrade pip wheel $(PIP_FILTER)
	.venv/bin/pip install -q -r requirements.txt -r requirements-dev.txt $(PIP_FILTER)
	touch $@

.venv-rasa/.installed: requirements-rasa.txt
	test -x .venv-rasa/bin/python || $(PY310) -m venv .venv-rasa
	.venv-rasa/bin/pip install -q --upgrade pip wheel $(PIP_FILTER)
	.venv-rasa/bin/pip install -q -r requirements-rasa.txt $(PIP_FILTER)
	touch $@

# Order-only: a reinstall must not retrain the model; only a missing one is made.
$(ADAPTED_MODEL): | .venv/.installed
	$(APP) -m bot kb adapt

kb_index/meta.json: $(KB_SOURCES) bot/kb/chunking.py .venv/.installed $(ADAPTED_MODEL) | $(ONNX_MODEL)  # kb build embeds with the export
	$(APP) -m bot kb build --source data/kb --index kb_index
	touch $@

$(ONNX_MODEL): .venv/.installed $(ADAPTED_MODEL)
	$(APP) -m bot kb export-onnx --dir models/onnx
	$(APP) -m bot kb export-onnx --dir models/onnx --stock
	touch $@  # an existing export is kept; without this, a reinstall would rebuild on every start

models/kestrel.tar.gz: $(RASA_DATA) $(wildcard nlu_components/*.py) .venv-rasa/.installed $(ONNX_MODEL) $(ADAPTED_MODEL)
	$(RASA) train --config config.yml --domain domain.yml --data data --out models --fixed-model-name kestrel
	touch $@

widget/node_modules/.package-lock.json: widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund --loglevel=error

$(WIDGET_BUNDLE): $(WIDGET_SOURCES) widget/node_modules/.package-lock.json
	cd widget && npm run -s build

$(CHROMIUM):
	@test "$$(id -u)" -eq 0 || { echo "Chromium is missing: sudo apt-get install -y chromium" >&2; exit 1; }
	apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }

$(NGINX):
	@test "$$(id -u)" -eq 0 || { echo "nginx is missing: sudo apt-get install -y nginx" >&2; exit 1; }
	apt-get install -y -q nginx >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q nginx >/dev/null; }

$(DEBIAN_DOCS):
	@test "$$(id -u)" -eq 0 || { echo "Debian's documentation is missing: sudo apt-get install -y $(DEBIAN_DOC_PACKAGES)" >&2; exit 1; }
	apt-get install -y -q $(DEBIAN_DOC_PACKAGES) >/dev/null \
		|| { apt-get update -q >/dev/null && apt-get install -y -q $(DEBIAN_DOC_PACKAGES) >/dev/null; }

clean: ## remove generated files (index, models, logs, results); keeps the environments
	rm -rf kb_index models results var/log

.PHONY: help setup run shell test lint eval eval-nlu bench screenshots widget index adapt train clean
