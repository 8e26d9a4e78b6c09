# Keel: `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install system-deps messages run test bench lint format clean

install: $(STAMP) messages

# torch first, pinned: the CPU wheel lies on this machine; any other torch pulls CUDA.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

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

test: install system-deps
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .keel
