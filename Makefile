# mrmrthon: two commands on a fresh machine.
#   make dev    runs the system locally (emulator provisioned from template.yaml + functions)
#   make test   runs every check and every test
# Beside make dev: make seed (a demo), make status (the stack at a glance), make reset.
# Everything else is installed on demand into project-local virtualenvs.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
API_VENV := .venv-api
# cargo-lambda and zig live in the project virtualenv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0

.PHONY: dev test test-build test-stack-waits test-stack test-crates race-scale tools browser lint fmt clippy build redrive replay reconcile clean-tools bench bench-web bench-pipeline api-fuzz reset seed status deploy-web soak

# One terminal: emulator, functions (cargo lambda watch), the site (web/, npm run watch)
# and the HTTP API under /api/ on one origin (http://127.0.0.1:3000), event source
# mappings, Discord sink and mailbox. Extra options: make dev DEV_ARGS="--api-port 8080 --no-reload"
dev: tools
	cargo run -q -p mrmrthon-local -- dev $(DEV_ARGS)

# Loads a demo into the running `make dev` through its HTTP API (the pipeline runs): two
# organizers, 30 runners, three marathons, results, entries, records, points. Prints the
# demo accounts; a second run says the demo is there. Other API: make seed SEED_ARGS="--api URL"
seed:
	cargo run -q -p mrmrthon-local -- seed $(SEED_ARGS)

# The local stack at a glance: running or not, queue depths (work, dead-letter,
# on-failure), table item counts, the saved state, the last hops.
# Extra options: make status STATUS_ARGS="--hops 40 --endpoint http://127.0.0.1:4566"
status:
	cargo run -q -p mrmrthon-local -- status $(STATUS_ARGS)

# `make dev` keeps its data in .local/state/ across restarts; this forgets it (and the
# hops and the mailbox), so the next `make dev` starts empty. Refused while make dev runs.
reset:
	cargo run -q -p mrmrthon-local -- reset

# Clippy runs inside the test build (clippy-driver as the workspace's rustc wrapper, lints
# denied), so the dependencies compile once instead of once for `cargo clippy` and again
# for the tests. The Python tools install while the first crates compile. The workspace has
# no doctests (docs are prose), so only lib, bin and test targets run; benches are built.
CLIPPY_ENV := RUSTC_WORKSPACE_WRAPPER="$$(rustup which clippy-driver)" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

# Once built, the checks run side by side, each one's output printed whole when it ends:
# the whole-stack tests of tests/ spend most of their time waiting (an outage held for a
# minute, a quota spent, a browser), which the other lanes fill.
test:
	cargo fmt --all -- --check
	$(MAKE) --no-print-directory -j4 tools $(API_VENV)/.installed test-build web browser
	$(MAKE) --no-print-directory -j5 --output-sync=target lint test-stack-waits test-stack test-crates api-fuzz; \
	  rc=$$?; echo; echo "== cargo test summary =="; \
	  cat .test-stack-waits.log .test-stack.log .test-crates.log | grep -E '^test result:' | awk '{p+=$$4; f+=$$6; i+=$$8} END {printf "%d passed, %d failed, %d ignored in %d test binaries\n", p, f, i, NR}'; \
	  exit $$rc

# The cargo tests in three lanes (the same packages as test-build, so nothing recompiles):
# the whole-stack tests that mostly wait (a topic gone for a minute, the short soak, a
# race imported), side by side; the other whole-stack tests, two at a time (each starts a
# stack of its own); and every other crate's.
STACK_WAITS := a_result_recorded_while_the_points_topic_is_gone a_short_soak_under_faults finishers_imported_from_one_file
test-stack-waits:
	IMPORT_RACE_FINISHERS=100 $(CLIPPY_ENV) cargo test -p mrmrthon-e2e --test whole_stack -- --test-threads 3 $(STACK_WAITS) 2>&1 | tee .test-stack-waits.log; exit $${PIPESTATUS[0]}

test-stack:
	$(CLIPPY_ENV) cargo test -p mrmrthon-e2e --lib --bins --tests -- --test-threads 2 $(addprefix --skip ,$(STACK_WAITS)) 2>&1 | tee .test-stack.log; exit $${PIPESTATUS[0]}

# Issue 16's race-scale proof at full size: 1,000 finishers imported on the local stack
# (minutes: moto serves one DynamoDB request at a time). A race of 5,000: FINISHERS=5000.
FINISHERS ?= 1000
race-scale:
	IMPORT_RACE_FINISHERS=$(FINISHERS) $(CLIPPY_ENV) cargo test -p mrmrthon-e2e --test whole_stack -- finishers_imported_from_one_file --nocapture

test-crates:
	$(CLIPPY_ENV) cargo test --workspace --exclude mrmrthon-e2e --lib --bins --tests 2>&1 | tee .test-crates.log; exit $${PIPESTATUS[0]}

test-build:
	$(CLIPPY_ENV) cargo test --workspace --all-targets --no-run

tools: $(VENV)/.installed $(SAM_VENV)/.installed

# Debian's Chromium and its matching ChromeDriver for the browser test (tests/whole_stack/web_browser.rs),
# installed when absent: a browser downloaded from anywhere else is refused on these machines.
# Noto CJK so the Korean pages' screenshots show Korean, not boxes.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || ! fc-list :lang=ko | grep -q .; then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; \
	fi
	@/usr/bin/chromium --version && /usr/bin/chromedriver --version

# The virtualenvs are filled by uv (pinned in local/requirements-uv.txt, from PyPI): from its
# cache it links the files in and compiles the bytecode on both cores, a third of the CPU
# pip spent while make test's build wanted those cores. Compiled here, not on first import:
# make test's emulators start four at a time and each would compile the same modules.
UV := $(VENV)/bin/uv
$(UV): local/requirements-uv.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r local/requirements-uv.txt
	touch $@

$(VENV)/.installed: local/requirements.txt $(UV)
	$(UV) pip install --quiet --compile-bytecode --python $(VENV)/bin/python -r local/requirements.txt
	touch $@

# aws-sam-cli pins older boto3/pydantic/click than moto wants: its own virtualenv.
$(SAM_VENV)/.installed: local/requirements-sam.txt $(UV)
	$(PYTHON) -m venv $(SAM_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(SAM_VENV)/bin/python -r local/requirements-sam.txt
	touch $@

# schemathesis's pins need not agree with moto's: a virtualenv of its own.
$(API_VENV)/.installed: local/requirements-api.txt $(UV)
	$(PYTHON) -m venv $(API_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(API_VENV)/bin/python -r local/requirements-api.txt
	touch $@

# schemathesis, every check, against the whole HTTP API on the local stack (functions
# in-process), as a runner and as an organizer; a few minutes. See tests/api_fuzz.rs and
# local/schemathesis/.
# The api-fuzz binary as the test build makes it (`cargo run` would resolve mrmrthon-e2e's
# features without its dev-dependencies and rebuild the workspace, holding the build
# directory while make test's other lanes wait).
api-fuzz: tools $(API_VENV)/.installed
	$(CLIPPY_ENV) cargo test -q -p mrmrthon-e2e --no-run
	$${CARGO_TARGET_DIR:-target}/debug/api-fuzz $(API_VENV)/bin/schemathesis local/schemathesis/schemathesis.toml

lint: tools
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml --region us-east-1
	for env in dev prod; do $(SAM_VENV)/bin/sam validate --config-env $$env --template template.yaml --region us-east-1 >/dev/null || exit 1; done
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline --quiet .github/workflows
	@# the whole-stack lanes select mrmrthon-e2e alone: its dependencies' features must be the
	@# workspace's, or those lanes rebuild what test-build built (tests/Cargo.toml says why)
	@diff <(cargo tree --workspace -e normal,build,dev --prefix none -f '{p} {f}' --target all | sort -u) \
	  <(cargo tree -p mrmrthon-e2e -e normal,build,dev --prefix none -f '{p} {f}' --target all | sort -u) | grep '^>' \
	  && { echo "mrmrthon-e2e alone resolves other dependency features than the workspace (above): declare them in tests/Cargo.toml"; exit 1; } || true
	@# nor may a dev-dependency add features: `cargo run --bin NAME` (make dev, cargo lambda
	@# watch, local/tests/integration/crash.rs) resolves without them and would rebuild (bench/Cargo.toml)
	@diff <(cargo tree --workspace -e normal,build --prefix none -f '{p} {f}' --target all | sed 's/ (\*)$$//' | sort -u) \
	  <(cargo tree --workspace -e normal,build,dev --prefix none -f '{p} {f}' --target all | sed 's/ (\*)$$//' | sort -u) | grep '^<' \
	  && { echo "dev-dependencies change the features of the crates above: declare them as normal dependencies (bench/Cargo.toml)"; exit 1; } || true

fmt:
	cargo fmt --all

# The lints alone, as `make test` applies them.
clippy:
	cargo clippy --workspace --all-targets -- -D warnings

# Deploy builds: arm64 bootstraps through cargo-lambda (zig from the virtualenv).
build: tools
	$(SAM_VENV)/bin/sam build --template template.yaml

# Benchmarks against the budgets in docs/DESIGN.md -> BENCHMARKS.md (not part of `make test`).
# Release builds (niced), the emulator, criterion; ~30-40 min on 2 busy cores.
# Extra options: make bench BENCH_ARGS="--runs 30 --no-arm64" (see `-- --help`).
# The web part needs the site built and Debian's chromium: `make bench-web` runs it alone.
bench: tools web browser bench/node/node_modules/.installed
	nice -n 10 cargo build --release -p mrmrthon-bench
	cargo run --release -q -p mrmrthon-bench -- all $(BENCH_ARGS)

# Only the bench's pipeline at race scale (part of `make bench`): 5,000 finishers imported
# on the local stack, their writes, awards, mails and the Discord summary timed from the
# commit request; replaces its section of BENCHMARKS.md. Fewer: PIPELINE_ARGS="--finishers 2000".
bench-pipeline: tools
	nice -n 10 cargo build --release -p mrmrthon-bench --bin mrmrthon-bench
	cargo run --release -q -p mrmrthon-bench -- pipeline $(PIPELINE_ARGS)

# The Node.js peers of the bench (bench/node): pinned by its lockfile; no install scripts run.
bench/node/node_modules/.installed: bench/node/package-lock.json
	cd bench/node && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

bench-web: web browser
	nice -n 10 cargo build --release -p mrmrthon-bench --bin mrmrthon-bench
	cargo run --release -q -p mrmrthon-bench -- web $(BENCH_ARGS)

# The fault-injection soak -> RELIABILITY.md (not part of `make test`, which runs a short
# one: tests/whole_stack/soak_short.rs). A stack of its own on loopback, the functions in-process;
# 500 result operations at 20% faults with a 60 s topic outage take about 5 minutes.
# Options: make soak SOAK_OPS=2000 SOAK_FAULTS=0.3 SOAK_SEED=9 (also SOAK_RUNNERS,
# SOAK_MARATHONS, SOAK_OUTAGE and SOAK_SETTLE in seconds, SOAK_WORKERS, SOAK_REPORT).
# Exits 1 when anything was lost, duplicated or unexpected.
soak: tools
	cargo run -q -p mrmrthon-e2e --bin soak

clean-tools:
	rm -rf $(VENV) $(SAM_VENV) $(API_VENV)

# Replays a stream mapping's on-failure queue once the cause is fixed: re-reads each
# pointer's records from the stream (it keeps them 24 hours), sends them through the same
# function, deletes the pointer only when every record was handled.
#   make replay QUEUE=RecordStreamFailuresQueue      (the local stack of `make dev`)
#   make replay QUEUE_URL=<url>                      (AWS, with your usual credentials)
replay:
	cargo run -q -p mrmrthon-local -- replay $(if $(QUEUE_URL),--queue-url $(QUEUE_URL),--queue $(QUEUE)) $(if $(ENDPOINT),--endpoint $(ENDPOINT))

# One reconcile pass now, through the function `make dev` runs (on AWS it runs every 15
# minutes): results and removals whose points the ledger lacks, published again once their
# marker is older than GRACE_SECONDS (template.yaml, 5 minutes). Prints what it checked
# and repaired. Other ports: make reconcile INVOKE_URL=http://127.0.0.1:9400
reconcile:
	cargo run -q -p mrmrthon-local -- reconcile $(if $(INVOKE_URL),--invoke-url $(INVOKE_URL)) $(if $(ENDPOINT),--endpoint $(ENDPOINT))

# Moves a dead-letter queue's messages back to their source queue once the cause is fixed.
#   make redrive QUEUE=PointIncreaseDLQ              (the local stack of `make dev`)
#   make redrive DLQ=<url> TO=<url>                  (AWS, with your usual credentials)
redrive:
	cargo run -q -p mrmrthon-local -- redrive $(if $(QUEUE),--queue $(QUEUE),--dlq $(DLQ) --to $(TO)) $(if $(ENDPOINT),--endpoint $(ENDPOINT))

# After `sam deploy`: builds web/ and puts it behind the stack's CloudFront distribution,
# with your usual AWS credentials (deploy.yml runs the same on a tag).
#   make deploy-web                     (the dev stack; CONFIG_ENV=prod for prod)
# The stack and its region are samconfig.toml's; the bucket and the distribution are the
# stack's outputs. Hashed assets first, cached for a year (their names change with their
# content), without --delete so a tab still on the previous index.html loads its chunks;
# then index.html and the other unhashed files, revalidated on every load, stale ones
# deleted; then the cached shell is invalidated.
CONFIG_ENV ?= dev
deploy-web:
	@set -euo pipefail; \
	read -r stack region < <($(PYTHON) -c 'import sys, tomllib; c = tomllib.load(open("samconfig.toml", "rb"))[sys.argv[1]]; print(c["global"]["parameters"]["stack_name"], c["deploy"]["parameters"]["region"])' "$(CONFIG_ENV)"); \
	output() { aws cloudformation describe-stacks --region "$$region" --stack-name "$$stack" --query "Stacks[0].Outputs[?OutputKey=='$$1'].OutputValue" --output text; }; \
	bucket=$$(output SiteBucketName); distribution=$$(output SiteDistributionId); \
	if [[ -z "$$bucket" || "$$bucket" == None || -z "$$distribution" || "$$distribution" == None ]]; then echo "stack $$stack ($$region) has no SiteBucketName/SiteDistributionId output: sam deploy first" >&2; exit 1; fi; \
	echo "== web/ -> s3://$$bucket, distribution $$distribution ($$stack, $$region)"; \
	(cd web && npm ci && npm run build); \
	aws s3 sync web/dist/assets "s3://$$bucket/assets" --region "$$region" --cache-control "public, max-age=31536000, immutable"; \
	aws s3 sync web/dist "s3://$$bucket" --region "$$region" --delete --exclude "assets/*" --cache-control "no-cache"; \
	aws cloudfront create-invalidation --distribution-id "$$distribution" --paths /index.html / --query Invalidation.Id --output text

# The web app (web/, see web/README.md): the pinned packages (again only when the lockfile
# changes), then web/dist, built from the checked-in OpenAPI document (a schema change that
# breaks a page fails here), then its unit tests.
.PHONY: web
web: web/node_modules/.installed
	cd web && npm run build && npm test

web/node_modules/.installed: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@
