# The two commands: `make dev` runs the product, `make test` runs every test.
# Built tools live in a cache outside the clone and are reused when the
# version matches; bin/ (git-ignored) holds links to them.

TEMPORAL_CLI_VERSION := v1.5.1
STRIPE_MOCK_VERSION  := v0.203.0
WORKFLOWCHECK_VERSION := v0.6.0
STATICCHECK_VERSION  := v0.8.2
# The Temporal server and UI that CLI v1.5.1 embeds, for `make cluster`.
TEMPORAL_SERVER_VERSION := v1.29.1
TEMPORAL_UI_VERSION     := v2.42.1

TOOLS_CACHE ?= $(HOME)/.cache/checkout
BIN := $(CURDIR)/bin
GO  ?= go

# Tests and programs find each tool through these variables (then PATH), never
# by searching folders: see toolpath/.
export TEMPORAL_CLI := $(BIN)/temporal
export STRIPE_MOCK  := $(BIN)/stripe-mock
# Debian's chromium, for the browser tests (installed by .ci/run).
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
# `make cluster` and its tests: the Temporal server, its SQL schema tool and
# schema files, Temporal UI, and Debian's haproxy (installed by .ci/run).
export TEMPORAL_SERVER     := $(BIN)/temporal-server
export TEMPORAL_SQL_TOOL   := $(BIN)/temporal-sql-tool
export TEMPORAL_SCHEMA_DIR := $(BIN)/temporal-schema
export TEMPORAL_UI_SERVER  := $(BIN)/temporal-ui-server
HAPROXY ?= /usr/sbin/haproxy
export HAPROXY
SERVER_CACHE := $(TOOLS_CACHE)/temporal-server-$(TEMPORAL_SERVER_VERSION)

.PHONY: dev cluster test test-cluster vet lint tools cluster-tools check-tools check-cluster-tools fresh-check bench build clean

## dev: run everything locally (Temporal dev server + UI, Stripe sandbox, SQLite, api, worker)
dev: $(BIN)/temporal build
	$(BIN)/checkout dev

## cluster: run the production shape locally (Temporal server on Postgres + UI, 2 api replicas behind haproxy, 2 workers, sandbox)
cluster: cluster-tools build
	$(BIN)/checkout cluster

## test: vet, determinism check, all tests with the race detector (real Temporal, Postgres, sandbox, stripe-mock)
test: tools vet
	$(GO) test -race -count=1 -timeout 20m ./...

## test-cluster: the cluster tests (real Temporal server on Postgres, replicas, kills, restarts, deploys); run by .ci/run
test-cluster: cluster-tools tools
	$(GO) test -tags cluster -count=1 -timeout 20m -v -run 'TestCluster' ./cluster/...

vet: $(BIN)/workflowcheck $(BIN)/staticcheck
	$(GO) vet ./...
	$(BIN)/staticcheck ./...
	$(BIN)/workflowcheck ./workflows/...

tools: $(BIN)/temporal $(BIN)/stripe-mock $(BIN)/workflowcheck $(BIN)/staticcheck

cluster-tools: $(BIN)/temporal-server $(BIN)/temporal-ui-server

## check-tools: each tool the tests use resolves to the one this Makefile built (or the temporal on PATH)
check-tools: tools
	@fail=0; \
	check() { want="$$1"; link="$(BIN)/$$2"; got="$$(readlink -f "$$link" || true)"; \
	  if [ -x "$$got" ] && [ "$$got" = "$$(readlink -f "$$want")" ]; then echo "ok  $$2 -> $$got"; \
	  else echo "BAD $$2: $$link resolves to '$$got', expected $$want" >&2; fail=1; fi; }; \
	if command -v temporal >/dev/null 2>&1; then check "$$(command -v temporal)" temporal; \
	else check $(TOOLS_CACHE)/temporal-$(TEMPORAL_CLI_VERSION)/temporal temporal; fi; \
	check $(TOOLS_CACHE)/stripe-mock-$(STRIPE_MOCK_VERSION)/stripe-mock stripe-mock; \
	check $(TOOLS_CACHE)/workflowcheck-$(WORKFLOWCHECK_VERSION)/workflowcheck workflowcheck; \
	check $(TOOLS_CACHE)/staticcheck-$(STATICCHECK_VERSION)/staticcheck staticcheck; \
	if [ -x "$(CHROMIUM)" ]; then echo "ok  chromium -> $(CHROMIUM)"; else echo "BAD chromium: $(CHROMIUM) is not installed (apt-get install -y chromium)" >&2; fail=1; fi; \
	exit $$fail

## check-cluster-tools: the same for the programs of `make cluster`
check-cluster-tools: cluster-tools
	@fail=0; \
	check() { want="$$1"; link="$(BIN)/$$2"; got="$$(readlink -f "$$link" || true)"; \
	  if [ -e "$$got" ] && [ "$$got" = "$$(readlink -f "$$want")" ]; then echo "ok  $$2 -> $$got"; \
	  else echo "BAD $$2: $$link resolves to '$$got', expected $$want" >&2; fail=1; fi; }; \
	check $(SERVER_CACHE)/server temporal-server; \
	check $(SERVER_CACHE)/sql temporal-sql-tool; \
	check $(SERVER_CACHE)/schema/postgresql/v12 temporal-schema; \
	check $(TOOLS_CACHE)/temporal-ui-server-$(TEMPORAL_UI_VERSION)/server temporal-ui-server; \
	if [ -x "$(HAPROXY)" ]; then echo "ok  haproxy -> $(HAPROXY)"; else echo "BAD haproxy: $(HAPROXY) is not installed (apt-get install -y haproxy)" >&2; fail=1; fi; \
	exit $$fail

## fresh-check: clone this repository's HEAD into a temporary folder and time `make tools`, `make build` and `make test` there.
## FRESH_TOOLS_CACHE=empty starts from an empty tool cache, as a machine that never built the tools.
fresh-check:
	@d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	git clone -q "$(CURDIR)" "$$d/checkout"; \
	cache=$(TOOLS_CACHE); [ "$(FRESH_TOOLS_CACHE)" = empty ] && cache=$$d/tools; \
	cd "$$d/checkout" && for step in tools build test; do \
	  s=$$(date +%s); $(MAKE) --no-print-directory TOOLS_CACHE=$$cache $$step || exit 1; \
	  echo "fresh-check: make $$step took $$(( $$(date +%s) - s )) s"; done

build:
	$(GO) build -o $(BIN)/checkout ./cmd/checkout

## bench: purchase throughput and latency over the real stack; prints figures
bench: tools
	$(GO) run ./cmd/checkout-bench

# A tool is built once per version into $(TOOLS_CACHE)/<name>-<version>/ and
# linked into bin/. A `temporal` already on PATH is used as is.
$(BIN)/temporal:
	@mkdir -p $(BIN)
	@if command -v temporal >/dev/null 2>&1; then ln -sf "$$(command -v temporal)" $@; \
	else d=$(TOOLS_CACHE)/temporal-$(TEMPORAL_CLI_VERSION); \
	  [ -x $$d/temporal ] || { echo "building the Temporal CLI $(TEMPORAL_CLI_VERSION) (about 6 minutes, once)"; \
	    GOBIN=$$d $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION); }; \
	  ln -sf $$d/temporal $@; fi

# The server, its SQL tool and its schema files are built and copied once
# per version (about 5 minutes cold on 2 cores, most of it shared with the
# CLI's build cache).
$(BIN)/temporal-server:
	@mkdir -p $(BIN)
	@d=$(SERVER_CACHE); \
	  [ -x $$d/server ] && [ -x $$d/sql ] && [ -d $$d/schema ] || { echo "building the Temporal server $(TEMPORAL_SERVER_VERSION) (about 5 minutes, once)"; \
	    GOBIN=$$d $(GO) install go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION) go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION) && \
	    rm -rf $$d/schema && cp -R "$$($(GO) env GOMODCACHE)/go.temporal.io/server@$(TEMPORAL_SERVER_VERSION)/schema" $$d/schema && chmod -R u+w $$d/schema; }; \
	  ln -sf $$d/server $@; ln -sf $$d/sql $(BIN)/temporal-sql-tool; ln -sfn $$d/schema/postgresql/v12 $(BIN)/temporal-schema

$(BIN)/temporal-ui-server:
	@mkdir -p $(BIN)
	@d=$(TOOLS_CACHE)/temporal-ui-server-$(TEMPORAL_UI_VERSION); \
	  [ -x $$d/server ] || GOBIN=$$d $(GO) install github.com/temporalio/ui-server/v2/cmd/server@$(TEMPORAL_UI_VERSION); \
	  ln -sf $$d/server $@

$(BIN)/stripe-mock:
	@mkdir -p $(BIN)
	@d=$(TOOLS_CACHE)/stripe-mock-$(STRIPE_MOCK_VERSION); \
	  [ -x $$d/stripe-mock ] || GOBIN=$$d $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION); \
	  ln -sf $$d/stripe-mock $@

$(BIN)/workflowcheck:
	@mkdir -p $(BIN)
	@d=$(TOOLS_CACHE)/workflowcheck-$(WORKFLOWCHECK_VERSION); \
	  [ -x $$d/workflowcheck ] || GOBIN=$$d $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION); \
	  ln -sf $$d/workflowcheck $@

$(BIN)/staticcheck:
	@mkdir -p $(BIN)
	@d=$(TOOLS_CACHE)/staticcheck-$(STATICCHECK_VERSION); \
	  [ -x $$d/staticcheck ] || GOBIN=$$d $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	  ln -sf $$d/staticcheck $@

clean:
	rm -rf $(BIN) data
