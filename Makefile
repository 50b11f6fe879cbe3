# evcrm — see README.md. `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
GO ?= go
PG_UP := scripts/pg-up.sh
BROKERS_UP := scripts/brokers-up.sh
CHROMIUM_UP := scripts/chromium-up.sh

export EVCRM_DATABASE_URL ?= postgres://evcrm:evcrm@localhost:5432/evcrm?sslmode=disable
export TEST_DATABASE_URL ?= postgres://evcrm:evcrm@localhost:5432/evcrm_test?sslmode=disable

# The message bus's broker tests run against NATS (JetStream) and RabbitMQ on loopback, which
# scripts/brokers-up.sh installs from Debian packages and starts; `make test NO_BROKERS=1` skips them.
ifndef NO_BROKERS
export EVCRM_TEST_NATS_URL ?= nats://127.0.0.1:4222
export EVCRM_TEST_AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672/
endif

BIN := bin/evcrm

.PHONY: run demo keys test bench lint migrate build db brokers chromium clean docs docs-assets fuzz soak

build:
	$(GO) build -o $(BIN) ./cmd/evcrm

db:
	@bash $(PG_UP)

brokers:
ifndef NO_BROKERS
	@bash $(BROKERS_UP) >/dev/null
endif

# Headless Chromium for the console's browser test (api/console); the test fails
# without it unless EVCRM_SKIP_BROWSER=1.
chromium:
	@bash $(CHROMIUM_UP)

# `make run` is the single-machine default with its evidence and privacy on: on first use
# it writes a checkpoint signing key and a personal-data master key to $(KEYS_DIR)/ (mode
# 0600, git-ignored; keep them out of the database's backups) unless EVCRM_AUDIT_KEY[_FILE]
# or EVCRM_PRIVACY_KEY[_FILE] are set. The auditors' public key is in $(KEYS_DIR)/audit.pub.
KEYS_DIR ?= .evcrm
WITH_KEYS = EVCRM_AUDIT_KEY_FILE="$${EVCRM_AUDIT_KEY_FILE:-$$([ -n "$${EVCRM_AUDIT_KEY:-}" ] || echo $(KEYS_DIR)/audit.key)}" \
	EVCRM_PRIVACY_KEY_FILE="$${EVCRM_PRIVACY_KEY_FILE:-$$([ -n "$${EVCRM_PRIVACY_KEY:-}" ] || echo $(KEYS_DIR)/privacy.key)}"

keys: build
	@mkdir -p $(KEYS_DIR)
	@[ -n "$${EVCRM_AUDIT_KEY_FILE:-}$${EVCRM_AUDIT_KEY:-}" ] || [ -f $(KEYS_DIR)/audit.key ] || \
		$(BIN) audit keygen --out $(KEYS_DIR)/audit.key > $(KEYS_DIR)/audit.pub
	@[ -n "$${EVCRM_PRIVACY_KEY_FILE:-}$${EVCRM_PRIVACY_KEY:-}" ] || [ -f $(KEYS_DIR)/privacy.key ] || \
		$(BIN) privacy keygen --out $(KEYS_DIR)/privacy.key >/dev/null

run: db build keys
	$(WITH_KEYS) $(BIN) migrate
	@echo "evcrm: serving on $${EVCRM_ADDR:-:8080}. Load demo data from another terminal with:"
	@echo "  make demo"
	@echo "or through the HTTP API with an admin token (evcrm token create --role admin --name demo):"
	@echo "  EVCRM_TOKEN=<token> $(BIN) demo --customers 100 --url http://localhost$${EVCRM_ADDR:-:8080}"
	@echo "Then open http://localhost$${EVCRM_ADDR:-:8080}/console and sign in with a token (evcrm token create --role quality --name you)."
	$(WITH_KEYS) $(BIN) serve

# Demo data written directly to the event store of `make run` (same keys, so personal data is encrypted).
demo: db build keys
	$(WITH_KEYS) $(BIN) demo --customers $${CUSTOMERS:-100} --url direct

migrate: db build keys
	$(WITH_KEYS) $(BIN) migrate

test: db brokers chromium
	$(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) --no-print-directory fuzz

# Fault tests too slow for make test (CI does not run them): a PostgreSQL restart under
# command load, on a private throwaway cluster (initdb/pg_ctl of PostgreSQL 15) on a free
# loopback port -- never the shared server. The kill -9 test runs in make test too.
soak: db
	$(GO) test -tags soak -race -count=1 -timeout 10m -v ./internal/faulttest/

# A short run of each fuzz target (their seed corpora in testdata/fuzz also run
# as plain tests in go test). Longer: make fuzz FUZZTIME=10m.
FUZZTIME ?= 3s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeCommand$$' -fuzztime $(FUZZTIME) ./commands/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEvent$$' -fuzztime $(FUZZTIME) ./domain/all/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckJSON$$' -fuzztime $(FUZZTIME) ./domain/text/

# Benchmarks: Go benchmarks for micro costs, then the end-to-end figures
# (raw PostgreSQL ceiling vs event store, subscription, projections, transparency log,
# HTTP commands vs raw INSERTs; BENCH_DURATION per command phase, JSON in bin/).
BENCH_DURATION ?= 5s
bench: db build
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...
	$(BIN) bench
	$(BIN) bench projections
	$(BIN) bench audit
	$(BIN) bench commands --duration $(BENCH_DURATION) --json bin/bench-commands.json

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# docs/events.md is generated from the event registry (evcrm events); a test
# in cmd/evcrm fails when it is out of date.
docs:
	$(GO) run ./cmd/evcrm events --format markdown > docs/events.md.tmp && mv docs/events.md.tmp docs/events.md

# The API reference's assets (Stoplight Elements from the npm registry), embedded in
# the binary from api/docsui/assets; refresh and commit. make docs-assets ELEMENTS_VERSION=9.0.25
docs-assets:
	bash scripts/docs-assets.sh $(ELEMENTS_VERSION)

clean:
	rm -rf bin
