# sou — the README's two quick-start commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
INDEX  ?= index
CORPUS_DIR ?= /tmp/sou-bench

JS     := tests/js

.PHONY: run test lint bench eval install js serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench,fast]'
	touch $@

install: $(VENV)/.installed

## the npm packages the tests drive (Meilisearch clients, axe-core, html-validate), pinned by
## tests/js/package-lock.json; without npm (or the registry) those tests skip with a reason
$(JS)/node_modules/.package-lock.json: $(JS)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix $(JS) --no-audit --no-fund --loglevel=error \
	    || echo "warning: npm ci failed in $(JS); the tests that drive its packages will be skipped"; \
	else echo "npm not found; the tests that drive the packages of $(JS) will be skipped"; fi

js: $(JS)/node_modules/.package-lock.json

## make run: set up, index the bundled demo articles, then serve them on http://127.0.0.1:5000
run: install
	$(BIN)/sou reindex examples/articles --index $(INDEX)
	$(BIN)/sou search "猫" --index $(INDEX) --limit 3
	$(BIN)/sou serve --index $(INDEX)

## make test: set up with the test extras, lint, run the whole suite
test: install js
	$(BIN)/ruff check search web tests bench
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check search web tests bench

## make bench: index and query benchmarks over both shared corpora, baselines in the same run
## (jieba + tantivy and the classic recipe on 2,000-post slices, each build a whole process with
## its summed memory; index sizes per file kind and field; the classic recipe over the whole
## 81k-post corpus_zh would take over an hour in one process: there it is compared on a slice);
## one index over both corpora; the segmenters' token differences; the projection to 1M posts.
## BENCH_ARGS=--quick: a smoke run on small slices in temporary folders (a few minutes).
BENCH_ARGS ?=
bench: install
	@uptime
	$(BIN)/python bench/index_bench.py --corpus both $(BENCH_ARGS)
	@uptime
	$(BIN)/python bench/query_bench.py --corpus corpus $(BENCH_ARGS)
	@uptime
	$(BIN)/python bench/query_bench.py --corpus corpus_zh --no-classic $(BENCH_ARGS)
	@uptime
	$(BIN)/python bench/query_bench.py --corpus corpus_zh --classic-slice 2000 $(BENCH_ARGS)
	@uptime
	$(BIN)/python bench/combined_bench.py $(BENCH_ARGS)
	@uptime
	$(BIN)/python bench/segmenter_diff.py $(BENCH_ARGS)
	@uptime
	$(BIN)/python bench/projection.py

## make eval: relevance on the judged dev queries of both corpora (builds or reuses their indexes)
eval: install
	$(BIN)/python bench/eval_dev.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
