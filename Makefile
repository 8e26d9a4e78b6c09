# Keel: `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package, torch and the tools included, pinned by pip-compile from pyproject.toml.
LOCK := requirements.lock
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install lock system-deps messages run test bench lint format clean

install: $(STAMP) messages

# The locked pip first, then the locked tree, then Keel itself (its dependencies are all
# in the lock). The lock's torch is the CPU wheel that lies on this machine (pip's
# find-links): any other torch pulls gigabytes of CUDA.
$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$$(grep '^pip==' $(LOCK))"
	$(BIN)/pip install --quiet -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# The lock again from pyproject.toml, keeping the pins that still fit (pip-compile's way);
# `make lock LOCK_FLAGS=--upgrade` moves every pin to the newest release allowed.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --allow-unsafe --no-emit-index-url \
		$(LOCK_FLAGS) --output-file $(LOCK) pyproject.toml
	@! grep -q '^nvidia-' $(LOCK) || { echo "$(LOCK) pulls CUDA (nvidia-*): torch must be the CPU wheel"; exit 1; }

# $(call packages_ensure,command:package ...): Debian's packages whose command is missing,
# installed (with sudo unless root).
packages_ensure = missing="$$(for pair in $(1); do command -v $${pair%%:*} >/dev/null || echo $${pair\#*:}; done)"; \
	[ -z "$$missing" ] || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; }

# The customer's fixed replies in their language: locale/*/django.po compiled by GNU
# gettext's msgfmt.
messages: $(STAMP)
	@$(call packages_ensure,msgfmt:gettext)
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv --ignore=.keel -v 0

# What the tests use besides: chromium drives the browser tests (Playwright cannot download
# browsers here), redis-server carries the channel layer and rate limits shared by several
# server processes, nginx runs docker/nginx.conf in front of a test server.
system-deps:
	@$(call packages_ensure,chromium:chromium redis-server:redis-server nginx:nginx)

run: install
	DEBUG=1 $(BIN)/python manage.py collectstatic --noinput -v 0
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py demo_setup
	DEBUG=1 $(BIN)/python manage.py ingest knowledge/demo/help-center --workspace demo --kb help-center --sync
	DEBUG=1 $(BIN)/python manage.py serve --demo

# A test file per worker process, one per core (at most four): most tests wait on a
# server, a worker or a browser, so two processes on two cores finish well before one.
# The tests that stop the database server run after, alone: the others share that server.
test: install system-deps
	$(BIN)/pytest --numprocesses auto --maxprocesses 4 --dist loadfile -m "not database_outage"
	$(BIN)/pytest -m database_outage

bench: install
	$(BIN)/python -m bench

# Style; the import contracts (pyproject's [tool.importlinter]); pages and sockets that write
# only through services (tests/test_boundaries.py); no model change without
# its migration; Django's deployment checks on the production settings, those of
# docker/.env.example (DEBUG unset) with a random SECRET_KEY and a database never reached.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q -p no:cacheprovider tests/test_boundaries.py
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	env -u DEBUG $$(grep -E '^[A-Z_]+=' docker/.env.example) \
		SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
		DATABASE_URL=postgres://keel@db:5432/keel \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .keel
