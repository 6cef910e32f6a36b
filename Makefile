# LoRAFace: `make run` serves the app, `make test` runs every test on SQLite and PostgreSQL.
# Both install whatever is missing first, so a fresh machine needs nothing else.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HTMX := static/vendor/htmx.min.js
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgresql install course-images tokenizers system-deps chromium compose postgres lint format bench clean

run: install
	$(BIN)/loraface serve --host $(HOST) --port $(PORT)

install: $(INSTALLED) $(HTMX) course-images tokenizers

# CLIP tokenizer files built from the BPE vocabulary inside the installed open_clip wheel.
tokenizers: $(INSTALLED)
	$(BIN)/python -c 'from app.trainer.configs.generate import ensure_tokenizers; ensure_tokenizers()'

# Lesson pictures drawn from photos shipped inside scikit-image and matplotlib (nothing downloaded).
course-images: $(INSTALLED)
	$(BIN)/python -m app.lessons.images

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch is pinned in pyproject (a CPU wheel is found locally; an unpinned torch pulls CUDA).
$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[ml,dev]'
	# Only its CLIP BPE vocabulary is used (to build tokenizers offline); --no-deps keeps
	# torchvision out, whose PyPI build does not load beside the pinned CPU torch.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps 'open_clip_torch==3.3.0'
	touch $@

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

test: install system-deps
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
	rm -rf $(VENV) node_modules static/vendor
