# Instrument service platform: the two commands of the README.
#
#   make demo   set up everything, build the demo database and the two apps
#               (H5), serve them
#   make test   run the whole test suite (SQLite, and PostgreSQL if
#               reachable; the apps' tests once)
#
# Other targets: venv, sao, npm, apps, build-demo, serve, bench, bench-apps,
# production, backup, restore (README "Production"), clean, distclean.
# Every recipe runs from the repository root: the paths in config/*.conf are
# relative to it.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

PYTHON ?= python3
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
CONFIG := config/trytond.conf
DB := demo
# sao, the Tryton web client, from npm: the newest 8.0.x release
SAO_SERIES := 8.0
SAO_DIR := $(ROOT)/.cache/sao
SAO_STAMP := $(SAO_DIR)/package/.installed
# swagger-ui-dist, the page of /api/v1/docs, from npm: the newest 5.x,
# served by trytond from .cache/api-docs ([instrument_service_api] docs_assets)
API_DOCS_SERIES := 5
API_DOCS_DIR := $(ROOT)/.cache/api-docs
API_DOCS_STAMP := $(API_DOCS_DIR)/package/.installed
VENV_STAMP := $(VENV)/.installed
# The apps' npm workspace (clients/): installed from its lock file
CLIENTS := $(ROOT)/clients
NPM_STAMP := $(CLIENTS)/node_modules/.installed
# The apps' H5 builds, served by trytond at /h5/ and /engineer/
# ([instrument_service_api] customer_app, engineer_app): each rebuilt when a
# source of the app or of the shared package changes
app_sources = $(shell find $(CLIENTS)/$(1) $(CLIENTS)/shared \
	\( -name node_modules -o -name dist -o -name tests \) -prune \
	-o -type f -print 2>/dev/null)
CUSTOMER_H5 := $(CLIENTS)/customer/dist/build/h5
ENGINEER_H5 := $(CLIENTS)/engineer/dist/build/h5

.PHONY: demo test venv sao npm apps build-demo port-free serve bench \
	bench-apps clean distclean
# demo's steps must run in order, even under make -j
.NOTPARALLEL:

demo: venv sao apps serve

test: venv sao npm
	cd "$(ROOT)" && "$(PY)" scripts/run_tests.py

venv: $(VENV_STAMP)

# Reinstalled when pyproject.toml changes (new dependency, new module).
$(VENV_STAMP): $(ROOT)/pyproject.toml
	@"$(PYTHON)" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (PYTHON=$(PYTHON))." >&2; exit 1; }
	@test -x "$(PY)" || { echo "Creating $(VENV)"; "$(PYTHON)" -m venv "$(VENV)"; }
	@echo "Installing the Python packages into .venv (pip install -e '.[test]') ..."
	cd "$(ROOT)" && "$(PY)" -m pip install --disable-pip-version-check -q -e '.[test]'
	@touch "$@"

sao: $(SAO_STAMP) $(API_DOCS_STAMP)

# npm pack fetches the tarball of the newest 8.0.x; its runtime
# dependencies (jquery, bootstrap, ...) are installed inside the unpacked
# package, which is what [web] root of config/trytond.conf serves. A plain
# npm install stops on a peer-dependency conflict, hence --legacy-peer-deps.
$(SAO_STAMP):
	@command -v npm >/dev/null || { echo "npm is needed to install sao, the web client." >&2; exit 1; }
	@echo "Installing sao $(SAO_SERIES).x (Tryton web client) into .cache/sao ..."
	rm -rf "$(SAO_DIR)" && mkdir -p "$(SAO_DIR)"
	cd "$(SAO_DIR)" && npm pack --silent --loglevel=error "tryton-sao@$(SAO_SERIES)" >/dev/null
	tar -xzf "$(SAO_DIR)"/tryton-sao-*.tgz -C "$(SAO_DIR)"
	cd "$(SAO_DIR)/package" && npm install --omit=dev --legacy-peer-deps \
		--no-audit --no-fund --loglevel=error >/dev/null
	@touch "$@"

# The API docs page (swagger-ui-dist) needs only the files of the package:
# npm pack + tar, like sao, so none of its dependencies (a telemetry
# package) is installed and no install script runs.
$(API_DOCS_STAMP):
	@command -v npm >/dev/null || { echo "npm is needed to install the API docs page." >&2; exit 1; }
	@echo "Installing swagger-ui-dist $(API_DOCS_SERIES).x (API docs page) into .cache/api-docs ..."
	rm -rf "$(API_DOCS_DIR)" && mkdir -p "$(API_DOCS_DIR)"
	cd "$(API_DOCS_DIR)" && npm pack --silent --loglevel=error "swagger-ui-dist@$(API_DOCS_SERIES)" >/dev/null
	tar -xzf "$(API_DOCS_DIR)"/swagger-ui-dist-*.tgz -C "$(API_DOCS_DIR)"
	rm -f "$(API_DOCS_DIR)"/swagger-ui-dist-*.tgz
	@touch "$@"

npm: $(NPM_STAMP)

# npm ci: exactly the lock file's versions, into clients/node_modules
# (hoisted, for every workspace); again when the lock file changes.
$(NPM_STAMP): $(CLIENTS)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to build the apps." >&2; exit 1; }
	@echo "Installing the apps' npm packages (npm ci in clients/) ..."
	cd "$(CLIENTS)" && npm ci --no-audit --no-fund --loglevel=error
	@touch "$@"

apps: $(CUSTOMER_H5)/index.html $(ENGINEER_H5)/index.html

$(CUSTOMER_H5)/index.html: $(NPM_STAMP) $(call app_sources,customer)
	@echo "Building the customer app (H5) into clients/customer/dist/build/h5 ..."
	cd "$(CLIENTS)" && npm run build:h5 -w customer --silent
	@touch "$@"

$(ENGINEER_H5)/index.html: $(NPM_STAMP) $(call app_sources,engineer)
	@echo "Building the engineer app (H5) into clients/engineer/dist/build/h5 ..."
	cd "$(CLIENTS)" && npm run build:h5 -w engineer --silent
	@touch "$@"

# Skipped when the database is up to date with the module sources;
# make build-demo FORCE=1 rebuilds it anyway.
build-demo: venv
	cd "$(ROOT)" && "$(PY)" scripts/build_demo.py --db "$(DB)" --config "$(CONFIG)"$(if $(FORCE), --force,)

# Refuses to start (and to rebuild a database a running server is using)
# when port 8000 is taken.
port-free: venv
	@"$(PY)" -c 'import socket, sys; s = socket.socket(); \
		sys.exit(s.connect_ex(("127.0.0.1", 8000)) == 0)' \
		|| { echo "Port 8000 is already in use: is a server running already?" >&2; exit 1; }

# The database files are found through data/trytond-paths.conf, written by
# build_demo.py: absolute paths of this checkout (SQLite needs them).
serve: port-free build-demo
	@echo
	@echo "Serving database \"$(DB)\" at http://127.0.0.1:8000/  (Ctrl+C to stop)"
	@echo "Log in with a login printed above (also in data/demo-credentials.txt)."
	@echo "Mobile API: http://127.0.0.1:8000/api/v1/docs"
	@# A demo customer's phone for the development login of the H5 app
	@"$(PY)" -c 'import sys; sys.path[:0] = [sys.argv[1]]; \
		from build_demo import CUSTOMERS; c = CUSTOMERS[0]; \
		print("Customer app (H5): http://127.0.0.1:8000/h5/ (in a phone-sized window)"); \
		print("  log in with a demo customer'"'"'s phone, %s (%s); the one-time code" % (c["phone"], c["name"])); \
		print("  appears in this log: \"development login code for %s: ......\"" % c["phone"])' \
		"$(ROOT)/scripts"
	@echo "Engineer app (H5): http://127.0.0.1:8000/engineer/ (in a phone-sized window)"
	@echo "  log in as a demo engineer (role engineer in data/demo-credentials.txt)"
	@# trytond-cron runs the scheduled jobs beside the server: escalation
	@# of unclaimed orders, deadlines, notices to retry; it stops with it.
	@# -v logs warnings too: the one-time codes of the API's development login
	cd "$(ROOT)" && { "$(VENV)/bin/trytond-cron" -c "$(CONFIG)" data/trytond-paths.conf -d "$(DB)" & \
		cron=$$!; trap 'kill $$cron 2>/dev/null' EXIT INT TERM; \
		"$(VENV)/bin/trytond" -c "$(CONFIG)" data/trytond-paths.conf -d "$(DB)" -v; }

# The benchmark (bench/README.md), on the PostgreSQL server of
# config/trytond-postgresql.conf: generates the databases it lacks, measures
# the API against JSON-RPC and the floor side by side on each, then soaks
# the first for 10 minutes; bench/RESULTS.md summarises. About 1 hour on 2
# cores with the two default sizes; BENCH_ORDERS="10000 100000 1000000"
# adds the million (about 3 hours more to generate, 10 GB).
BENCH_ORDERS ?= 10000 100000

bench: venv
	cd "$(ROOT)" && "$(PY)" bench/run.py $(foreach n,$(BENCH_ORDERS),--orders $(n))
	cd "$(ROOT)" && "$(PY)" bench/run.py --orders $(firstword $(BENCH_ORDERS)) --soak

# The apps' speed on an emulated mid-range phone (bench/apps/): the
# customer's and the engineer's H5 builds as they are (make apps first),
# each served by a test server.
bench-apps: venv npm
	@test -f "$(CUSTOMER_H5)/index.html" -a -f "$(ENGINEER_H5)/index.html" || { echo "No H5 build: run make apps first." >&2; exit 1; }
	cd "$(ROOT)" && PYTHON="$(PY)" node bench/apps/bench.mjs
	cd "$(ROOT)" && PYTHON="$(PY)" node bench/apps/engineer.mjs

# Production on this machine, without containers (README "Production"):
# init (creates and initialises the database, or updates its modules),
# then web (gunicorn), cron and worker together under honcho (Procfile),
# against config/trytond-postgresql.conf with the environment winning over
# it: the variables of PRODUCTION_ENV (.env, from
# scripts/production/env.example) or of the shell. The containers of
# docker/ run the same scripts (scripts/production/run.py).
PRODUCTION_ENV ?= .env

.PHONY: production backup restore
production: venv sao apps
	cd "$(ROOT)" && export PATH="$(VENV)/bin:$$PATH" \
		&& honcho run -e "$(PRODUCTION_ENV)" python scripts/production/run.py init \
		&& exec honcho start -e "$(PRODUCTION_ENV)" -f Procfile

# scripts/backup.py: the database (pg_dump) and its files, with a manifest,
# into backups/ (BACKUP_OPTIONS=--tar for one file); same settings as
# production.
backup: venv
	cd "$(ROOT)" && "$(VENV)/bin/honcho" run -e "$(PRODUCTION_ENV)" \
		"$(PY)" scripts/backup.py $(BACKUP_OPTIONS)

# make restore BACKUP=backups/NAME-... DATABASE=new_name [RESTORE_OPTIONS=--force]
restore: venv
	@test -n "$(BACKUP)" -a -n "$(DATABASE)" || { echo \
		"Usage: make restore BACKUP=backups/<backup> DATABASE=<new database>" >&2; exit 2; }
	cd "$(ROOT)" && "$(VENV)/bin/honcho" run -e "$(PRODUCTION_ENV)" \
		"$(PY)" scripts/restore.py "$(BACKUP)" "$(DATABASE)" $(RESTORE_OPTIONS)

# Generated data (demo database, filestore, credentials, sao, caches);
# keeps .venv.
clean:
	cd "$(ROOT)" && rm -rf data .cache
	cd "$(ROOT)" && find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf "$(VENV)"
