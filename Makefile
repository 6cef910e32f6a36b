# LoRAFace: `make run` serves the app, `make test` runs every test on SQLite and PostgreSQL.
# Both install whatever is missing first, so a fresh machine needs nothing else.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
INSTALLED := $(VENV)/.installed
LOCK := requirements/lock.txt
HTMX := static/vendor/htmx.min.js
CLIP_VOCAB_WHEEL := build/clip-vocab/open_clip_torch-3.3.0-py3-none-any.whl
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
# torch is installed on its own, before the lock: the CPU build is found on this kind of machine's
# disk; a CUDA machine takes the CUDA build of the same version, e.g.
#   make install TORCH_INDEX=https://download.pytorch.org/whl/cu128
TORCH := torch==2.13.0
TORCH_INDEX ?=

.PHONY: run test test-sqlite test-postgresql test-latest install check-deps lock course-images tokenizers system-deps chromium compose postgres lint format bench clean

run: install
	$(BIN)/loraface serve --host $(HOST) --port $(PORT)

install: $(INSTALLED) $(HTMX) course-images tokenizers

# CLIP tokenizer files built from the BPE vocabulary read out of the open_clip_torch wheel file
# (downloaded, hash-checked, never installed: its own requirements would be left unmet).
tokenizers: $(INSTALLED) $(CLIP_VOCAB_WHEEL)
	$(BIN)/python -m app.trainer.configs.generate --tokenizers-only --vocab-wheel $(CLIP_VOCAB_WHEEL)

$(CLIP_VOCAB_WHEEL): requirements/clip-vocab.txt | $(BIN)/python
	$(PIP) download --quiet --no-deps --require-hashes -r requirements/clip-vocab.txt -d $(dir $@)
	touch $@

# Lesson pictures drawn from photos shipped inside scikit-image and matplotlib (nothing downloaded).
course-images: $(INSTALLED)
	$(BIN)/python -m app.lessons.images

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Every dependency, direct and transitive, comes from the hash-checked lock; torch (the one package
# whose build differs by machine) first, at its pinned version. `pip check` then proves the set whole.
$(INSTALLED): $(LOCK) pyproject.toml | $(BIN)/python
	$(PIP) install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) '$(TORCH)'
	$(PIP) install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	$(PIP) check
	touch $@

check-deps: $(INSTALLED)
	$(PIP) check

# Refresh the lock from pyproject's ranges (pip-tools lives in its own venv, outside the locked set).
lock:
	@test -x .venv-tools/bin/pip-compile || { $(PYTHON) -m venv .venv-tools && .venv-tools/bin/pip install --quiet pip-tools; }
	.venv-tools/bin/pip-compile --quiet --generate-hashes --extra ml --extra dev --strip-extras \
	  --unsafe-package torch --no-emit-index-url --no-emit-find-links --upgrade -o $(LOCK) pyproject.toml

# Not in CI: the newest versions pyproject allows, in a venv of their own, against the trainer tests.
test-latest: $(CLIP_VOCAB_WHEEL)
	rm -rf .venv-latest && $(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --disable-pip-version-check $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) '$(TORCH)'
	.venv-latest/bin/python -m pip install --quiet --disable-pip-version-check --upgrade -e '.[ml,dev]'
	.venv-latest/bin/python -m pip list --format=freeze | grep -iE '^(diffusers|peft|transformers|accelerate|safetensors)=='
	.venv-latest/bin/python -m pip check
	.venv-latest/bin/python -m app.trainer.configs.generate --tokenizers-only --vocab-wheel $(CLIP_VOCAB_WHEEL)
	.venv-latest/bin/pytest tests/unit/trainer tests/integration/trainer $(PYTEST_ARGS)

$(HTMX): package.json
	npm install --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

system-deps: chromium compose postgres

# Browser tests drive Debian's chromium (Playwright never downloads a browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; }

# tests/deploy validates docker-compose.yml with `docker compose config` (no Docker daemon needed);
# Debian's docker-compose 1.29 does it where the CLI plugin is missing (without the engine it recommends).
compose:
	@docker compose version >/dev/null 2>&1 || docker-compose version >/dev/null 2>&1 || { \
	  echo "installing docker-compose"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose) >/dev/null; }

postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start; \
	  for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

test: install system-deps check-deps
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgresql

# pytest's exit code 5 means "no tests collected" (a filtered run), not a failure.
test-sqlite: install
	@echo "== tests on SQLite =="
	LORAFACE_TEST_REQUIRE_COMPOSE=1 LORAFACE_TEST_DATABASE=sqlite $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

test-postgresql: install postgres
	@echo "== tests on PostgreSQL =="
	LORAFACE_TEST_REQUIRE_COMPOSE=1 LORAFACE_TEST_DATABASE=postgresql LORAFACE_TEST_PG_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

lint: install
	$(BIN)/ruff check app tests benchmarks
	$(BIN)/ruff format --check app tests benchmarks

format: install
	$(BIN)/ruff format app tests benchmarks
	$(BIN)/ruff check --fix app tests benchmarks

clean:
	rm -rf $(VENV) .venv-tools .venv-latest node_modules static/vendor build
