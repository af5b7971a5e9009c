# The dev stack runs as local processes under supervisord (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# promtool, Prometheus's rule checker, tests monitoring/alerts.yml; built once from the Go module
# proxy (for the tests only: the stack itself needs nothing but Python and make)
PROMTOOL_VERSION := v0.316.0
PROMTOOL := .stack/tools/promtool-$(PROMTOOL_VERSION)

.PHONY: bench-outage promtool rotate-kafka-password clean-kafka migrate bench-reconcile bench-scale up-cluster test-cluster up down status test test-fast prerequisites env clean lint bench reconcile restart topics tail dlq users conflicts

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

up: $(STAMP)  ## start everything (idempotent); the single-node shape
	STACK_BROKERS=1 SINK_REPLICAS=$(or $(SINK_REPLICAS),1) $(PY) -m stack up

up-cluster: $(STAMP)  ## three brokers, two Connect workers, 3 partitions, 2 sink replicas a side
	STACK_BROKERS=3 SINK_REPLICAS=$(or $(SINK_REPLICAS),2) $(PY) -m stack up

test-cluster: $(STAMP)  ## only the `cluster` tests, on a cluster stack of their own
	$(PY) -m stack test-cluster

down: $(STAMP)  ## stop every process the stack started
	$(PY) -m stack down

status: $(STAMP)  ## show what runs where; non-zero when unhealthy
	$(PY) -m stack status

test: prerequisites $(PROMTOOL) $(STAMP)  ## lint, then the whole suite against the real stack
	$(MAKE) --no-print-directory lint
	PROMTOOL=$(CURDIR)/$(PROMTOOL) $(PY) -m stack test $(PYTEST_ARGS)

test-fast: $(STAMP)  ## the tests that need only PostgreSQL: starts the two databases alone
	$(PY) -m stack test-fast $(PYTEST_ARGS)

$(PROMTOOL):
	@command -v go >/dev/null || { echo "building promtool needs Go; or run the tests with PROMTOOL=<a promtool binary>"; exit 1; }
	GOBIN=$(CURDIR)/.stack/tools/go go install github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION)
	mv .stack/tools/go/promtool $@

promtool: $(PROMTOOL)  ## build promtool (Prometheus's rule checker) for the alert tests

# Debian's Chromium and wrk: installed when missing if we are root on Debian/Ubuntu, otherwise
# named with the one command to run (stack/prerequisites.py; standard library, so no venv yet)
prerequisites:
	$(PYTHON) -m stack.prerequisites

env:  ## write .env for docker compose: a generated secret for each blank in .env.example
	$(PYTHON) -m stack.envfile

clean: $(STAMP)  ## stop and wipe data and logs
	$(PY) -m stack clean

clean-kafka: $(STAMP)  ## stop and wipe only Kafka's data (the databases keep theirs)
	$(PY) -m stack clean-kafka

rotate-kafka-password: $(STAMP)  ## a new password for one Kafka principal: NAME=sink-store
	$(PY) -m stack rotate-kafka-password $(NAME)

bench: $(STAMP)  ## benchmarks beside native logical replication (starts the stack if needed)
	$(PY) -m stack run -- $(PY) -m bench

lint: $(STAMP)  ## ruff check, ruff format --check, import-linter contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

bench-outage: $(PROMTOOL) $(STAMP)  ## a sink stopped under 100k changes, Connect stopped 5 min under writes
	PROMTOOL=$(CURDIR)/$(PROMTOOL) $(PY) -m stack run -- $(PY) -m bench.outage

bench-reconcile: $(STAMP)  ## reconcile a million orders a side (ROWS=..., DIFFERENT=...): time, RSS
	$(PY) -m stack run -- $(PY) -m bench.reconcile_scale $(or $(ROWS),1000000) $(or $(DIFFERENT),10)

bench-scale: $(STAMP)  ## sink drain with 1 and 2 replicas; latency single-node beside a cluster stack
	$(PY) -m stack run -- $(PY) -m bench.scale

reconcile: $(STAMP)  ## compare both databases; REPAIR=1 to rewrite winning states
	$(PY) -m stack exec -- $(PY) -m connectors.reconcile $(if $(REPAIR),--repair,)

users: $(STAMP)  ## manage one side's logins: SIDE=store|warehouse ARGS="create alice --role editor" (password on stdin)
	$(PY) -m stack.users $(SIDE) $(ARGS)

conflicts: $(STAMP)  ## the conflicts each sink decided, newest first: ORDER=<id> SIDE=store|warehouse
	$(PY) -m stack.conflicts $(if $(SIDE),--side $(SIDE),) $(if $(ORDER),--order $(ORDER),)

migrate: $(STAMP)  ## apply one side's migrations while the stack runs: SIDE=store|warehouse
	$(PY) -m stack migrate $(SIDE)

restart: $(STAMP)  ## restart apps and sinks (or NAMES="sink-store-to-warehouse ...")
	$(PY) -m stack restart $(NAMES)

topics: $(STAMP)  ## topics with partitions and end offsets, consumer groups and their lag
	$(PY) -m stack topics

tail: $(STAMP)  ## print a topic's latest events as they arrive: TOPIC=... [ORDER=<id>] [FOLLOW=0: stop at the end]
	$(PY) -m stack tail $(or $(TOPIC),store.public.store_order) $(if $(ORDER),--order $(ORDER),) $(if $(filter 0,$(FOLLOW)),--no-follow,)

dlq: $(STAMP)  ## list dead letters since the last replay; REPLAY=1 re-drives them, TRIM=1 deletes replayed ones (SOURCE=store)
	$(PY) -m stack exec -- $(PY) -m connectors.dlq $(if $(SOURCE),--source $(SOURCE),) $(if $(REPLAY),--replay,) $(if $(TRIM),--trim,)
