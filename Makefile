# ToxiScope: `make run` brings the platform up on this machine, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The tests run against the real PostgreSQL and Redis (a database number of their own).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
TEST_CACHE_URL ?= redis://127.0.0.1:6379/14
# Test processes (pytest-xdist): one per core of CI's machine. Each after the first takes the
# Redis database below the last for its cache (tests/parallel.py).
TEST_WORKERS ?= 2

.PHONY: install chromium run setup starter-model starter-cascade span-tagger lint test test-fast screenshots bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -r requirements.txt
	@# Byte-compiled on every core at once rather than file by file as pip does: 48 s instead of
	@# about 80 s of a fresh install on 2 cores. As pip does, a file written for a newer Python
	@# (torch ships one) is left uncompiled rather than failing the install. Left out: the
	@# packages' own test suites and transformers' model families other than BERT's, which
	@# nothing here imports: a third of the files, 52 → 38 s on 2 cores measured on one day.
	$(PY) -m compileall -q -j 0 -x '/tests/|/transformers/models/(?!bert/|auto/|__init__)' $(VENV)/lib > /dev/null || true
	touch $@

install: $(VENV)/.installed

# The browser tests drive Debian's Chromium (never `playwright install`); without it they skip, loudly.
chromium:
	@test -x /usr/bin/chromium || apt-get install -y -q chromium >/dev/null 2>&1 || sudo -n apt-get install -y -q chromium >/dev/null 2>&1 \
		|| echo "WARNING: could not install Debian's chromium: the browser tests will be skipped"

# Migrate, load the real starter set and the demo set, create the admin account, and make the
# shipped starter model active if no model exists (or, without it, train a first one).
setup: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py import_comments moderation/fixtures/starter/jigsaw_starter.csv --source jigsaw-starter --no-progress
	$(PY) manage.py import_comments moderation/fixtures/demo_comments.csv --source demo --no-progress
	$(PY) manage.py ensure_admin
	HF_HUB_OFFLINE=1 $(PY) manage.py install_starter_model
	HF_HUB_OFFLINE=1 $(PY) manage.py train --if-missing --promote

# Reproduce the starter model from the starter set: a MiniLM teacher (about 32 minutes on 2 cores),
# then the BERT-tiny-shaped student distilled from it (about 16 minutes).
starter-model: install
	rm -rf var/starter && mkdir -p var/starter
	HF_HUB_OFFLINE=1 $(PY) -m training.starter model --data moderation/fixtures/starter/jigsaw_starter.csv --out var/starter --name starter
	rm -rf moderation/fixtures/starter/model && cp -a var/starter/starter moderation/fixtures/starter/model

# Web server (gunicorn) and a Celery worker for both queues, with the beat schedule; Ctrl-C stops both.
run: setup
	@rm -rf var/prometheus && mkdir -p var/prometheus
	@export PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/var/prometheus; trap 'kill 0' INT TERM EXIT; \
	$(PY) -m celery -A toxiscope worker -B -Q default,training --concurrency 2 --loglevel INFO & \
	echo; echo "ToxiScope is running: http://127.0.0.1:$(PORT)/review/  (admin: /admin/, API docs: /api/docs/, metrics: /metrics)"; \
	echo "Create an API key for a client: $(PY) manage.py create_api_key my-site"; echo; \
	$(VENV)/bin/gunicorn toxiscope.wsgi -c python:toxiscope.gunicorn_conf --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile -

# Give the shipped starter model (made before cascades) its cascade band, chosen on its own
# validation split (training/cascade.py); `make starter-model` chooses one as it trains.
starter-cascade: install
	rm -rf var/starter-cascade
	HF_HUB_OFFLINE=1 $(PY) -c "from training.recalibration import add_cascade; \
		add_cascade('moderation/fixtures/starter/model', out_dir='var/starter-cascade', name='starter')"
	rm -rf moderation/fixtures/starter/model && cp -a var/starter-cascade/starter moderation/fixtures/starter/model

# Relearn the work page's span tagger from the annotators' marked spans in ../shared/data.
span-tagger: install
	$(PY) -m training.span_tagger --data ../shared/data/toxic_spans_train.csv --out moderation/fixtures/spans

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# --durations: CI's log names the slowest tests, so the suite's margin under CI's limit is watched.
# Tests go out in collection order (pytest-xdist's default `load`), so each worker runs its
# database tests before the transactional ones, whose flush empties the seeded tables.
test: lint chromium
	DATABASE_URL=$(TEST_DATABASE_URL) DATABASE_CONN_MAX_AGE=0 CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	TOXISCOPE_CACHE_URL=$(TEST_CACHE_URL) HF_HUB_OFFLINE=1 $(PY) -m pytest -n $(TEST_WORKERS) --durations=25

test-fast: install
	DATABASE_URL=$(TEST_DATABASE_URL) DATABASE_CONN_MAX_AGE=0 CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	TOXISCOPE_CACHE_URL=$(TEST_CACHE_URL) HF_HUB_OFFLINE=1 $(PY) -m pytest -m "not slow"

# The browser tests again, saving their screenshots of the main pages under docs/screenshots/.
screenshots: install chromium
	DATABASE_URL=$(TEST_DATABASE_URL) DATABASE_CONN_MAX_AGE=0 CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	TOXISCOPE_CACHE_URL=$(TEST_CACHE_URL) HF_HUB_OFFLINE=1 TOXISCOPE_SCREENSHOTS_DIR=docs/screenshots \
	$(PY) -m pytest -m browser -q

# Each prints its numbers and writes bench/results/*.json; run them on an otherwise idle machine.
bench: install
	HF_HUB_OFFLINE=1 $(PY) bench/boot_time.py
	HF_HUB_OFFLINE=1 $(PY) bench/train_speed.py
	HF_HUB_OFFLINE=1 $(PY) bench/quality.py
	HF_HUB_OFFLINE=1 $(PY) bench/score_throughput.py
	HF_HUB_OFFLINE=1 $(PY) bench/api_latency.py
	HF_HUB_OFFLINE=1 $(PY) bench/ingest_load.py
	HF_HUB_OFFLINE=1 $(PY) bench/review_latency.py

clean:
	rm -rf $(VENV) var .pytest_cache
