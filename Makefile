# Lotwise: every target sets up what it needs; a fresh machine needs only python3.11, git and make
# (and, for `make test`, Debian's apt: the browser tests install Chromium with it).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
STAMP  := $(VENV)/.installed
VAR    := var
# Prefect keeps its local (ephemeral) server database under ./var; no server to start by hand.
export PREFECT_HOME := $(abspath $(VAR)/prefect)
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

DEMO_HOUSEHOLDS ?= 500
DEMO_SEED       ?= 7
DEMO_AS_OF      ?= 2026-11-20

# The browser tests (tests/browser.py) drive Debian's Chromium and its chromedriver; nothing else may
# provide the browser (no download at run time). Installed once, when missing; as root or through sudo.
CHROMIUM := /usr/bin/chromium /usr/bin/chromedriver
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test bench bench-peer docs clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==0.13.8
	$(UV) pip install --quiet --python $(BIN)/python -r requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/lotwise demo --households $(DEMO_HOUSEHOLDS) --seed $(DEMO_SEED) --as-of $(DEMO_AS_OF) --var $(VAR)

$(CHROMIUM) &:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver

test: $(STAMP) | $(CHROMIUM)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.sample_firm
	$(BIN)/python -m benchmarks.household_lp
	$(BIN)/python -m benchmarks.demo_end_to_end
	$(BIN)/python -m benchmarks.ledger_replay
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python -m benchmarks.daily_flow
	$(BIN)/python -m benchmarks.simulation

# The peer benchmark's own environment: the project plus taxrebalance (benchmarks/peer/), never in .venv.
PEER_VENV  := .venv-peer
PEER_STAMP := $(PEER_VENV)/.installed

$(PEER_STAMP): pyproject.toml requirements.lock benchmarks/peer/requirements.txt
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install --quiet uv==0.13.8
	$(PEER_VENV)/bin/uv pip install --quiet --python $(PEER_VENV)/bin/python -r requirements.lock -r benchmarks/peer/requirements.txt
	$(PEER_VENV)/bin/uv pip install --quiet --python $(PEER_VENV)/bin/python --no-deps -e .
	touch $(PEER_STAMP)

bench-peer: $(PEER_STAMP)
	$(PEER_VENV)/bin/python -m benchmarks.peer_taxrebalance

docs: $(STAMP)
	$(BIN)/lotwise contracts-doc --out docs/contracts.md

clean:
	rm -rf $(VAR) $(VENV) $(PEER_VENV)
