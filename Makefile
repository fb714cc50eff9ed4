# One set of commands, the same on a laptop and in CI. Each target installs what it needs and is
# fast the second time: the venv is rebuilt only when pyproject.toml changes, images only when their
# inputs change (harness.inputs-hash label), the engine only started when none answers.

PYTHON   ?= python3
VENV     := .venv
HARNESS  := $(VENV)/bin/python -m harness
PYTEST   := $(VENV)/bin/pytest
STACK    ?= stack/compose.yml
MUTANT   ?=
STACK_FILES := $(STACK) $(if $(MUTANT),stack/mutants/$(MUTANT).yml)
DRIVER   ?=
DRIVER_ARG := $(if $(DRIVER),--driver $(DRIVER))
SECRETS  := stack/secrets/postgres_password stack/secrets/rabbitmq_password
PYTEST_ARGS ?=

.PHONY: host-tools help venv engine images stack-up stack-down status sla mutants trials clean-faults test test-unit check lint-stack bench report clean

help:
	@echo "make test        all tests: unit, property, and integration against the real stack"
	@echo "make sla         bring the stack up and judge it (STACK=..., MUTANT=name)"
	@echo "make stack-up / stack-down / status / lint-stack / bench / check / clean"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

engine: venv
	$(HARNESS) engine ensure

# Random per machine, git-ignored, mounted as compose secrets (rule 9.2: no secret in a file in git).
$(SECRETS):
	mkdir -p stack/secrets
	umask 022 && head -c 24 /dev/urandom | base64 > $@

images: engine $(SECRETS)
	$(HARNESS) build --stack $(STACK_FILES)

stack-up: images
	$(HARNESS) up --no-build --stack $(STACK_FILES) $(DRIVER_ARG)

stack-down: engine
	$(HARNESS) down --stack $(STACK_FILES) $(DRIVER_ARG)

status: engine
	$(HARNESS) status --stack $(STACK_FILES)

SLAS     ?= slas.yaml
SLA_ARGS ?=
NIGHTLY  ?=

# The harness exits 0 (every gate SLA passed), 1 (an SLA failed) or 2 (could not run or measure); make
# itself reports any failed recipe as 2, so the last line names the harness's own code, which
# reports/verdicts.json also holds. A gate that needs 1 and 2 apart runs `python -m harness run`.
# NIGHTLY=1 adds the scenarios slas.yaml marks `nightly: true` (the 5-minute idle of hibernation).
# DRIVER=swarm deploys with `docker stack deploy` on a single-node Swarm (default: slas.yaml's
# defaults.driver, else compose).
sla: images
	@$(HARNESS) run --stack $(STACK_FILES) --slas $(SLAS) $(DRIVER_ARG) $(if $(NIGHTLY),--nightly) -- $(SLA_ARGS); code=$$?; \
	  echo "harness run: exit code $$code (0 pass, 1 an SLA failed, 2 could not measure)"; exit $$code

lint-stack: venv
	$(HARNESS) lint $(STACK_FILES) --slas $(SLAS)

# The Allure HTML report of the last run; the previous report's history is carried forward so that
# Allure shows trends across nightly runs. Allure 2 comes from npm (it runs on the machine's Java).
ALLURE := .cache/allure/node_modules/.bin/allure
$(ALLURE):
	npm install --silent --no-audit --no-fund --prefix .cache/allure allure-commandline@2

# ALLURE_RESULTS/ALLURE_REPORT: the browser test (tests/report) runs this target on its own folders.
ALLURE_RESULTS ?= reports/allure-results
ALLURE_REPORT  ?= reports/allure-report
report: $(ALLURE)
	@test -d "$(ALLURE_RESULTS)" || { echo "make report: no $(ALLURE_RESULTS): run make sla first" >&2; exit 2; }
	if [ -d "$(ALLURE_REPORT)/history" ]; then cp -r "$(ALLURE_REPORT)/history" "$(ALLURE_RESULTS)/"; fi
	$(ALLURE) generate "$(ALLURE_RESULTS)" --clean -o "$(ALLURE_REPORT)"
	@echo "open $(ALLURE_REPORT)/index.html"

# Every mutant of stack/mutants/ against the check meant to catch it; prints the detection matrix.
mutants: images
	$(VENV)/bin/python stack/mutants/matrix.py $(MUTANTS)

# The interrupt trials (slow, about 20 minutes): `harness run` interrupted at 20 random instants, SIGINT and
# SIGKILL, each followed by a check that nothing is left behind; the outcome lands in reports/trials.json.
TRIALS ?= 20
trials: images host-tools
	HARNESS_TRIALS=$(TRIALS) $(PYTEST) tests/reliability -s -p no:cacheprovider $(PYTEST_ARGS)

clean-faults: venv
	$(HARNESS) clean --stack $(STACK_FILES) --slas $(SLAS) $(DRIVER_ARG)

# Host programs some tests drive directly: Debian's Python with the stacks' libraries (the services'
# HTTP tests run them on the host; python3-circuitbreaker for the relay example's workers), the Pushgateway
# (load tests), wrk (benchmarks), chromium and Java (the Allure report opened in a browser, tests/report).
# Installed on Debian as root when missing; elsewhere the tests that need them skip, saying why.
HOST_TOOLS := python3-aiohttp python3-redis python3-asyncpg python3-aiormq python3-prometheus-client \
              python3-circuitbreaker python3-docker prometheus-pushgateway wrk chromium openjdk-17-jre-headless
host-tools:
	@missing=$$(for p in $(HOST_TOOLS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "harness: installing $$missing with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	elif [ -n "$$missing" ]; then echo "harness: not installed (tests that need them skip): $$missing"; fi

test: images host-tools
	$(PYTEST) $(PYTEST_ARGS)

test-unit: venv
	$(PYTEST) -m "not docker" $(PYTEST_ARGS)

check: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: images host-tools
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf reports/* .pytest_cache .mypy_cache .ruff_cache .hypothesis
	touch reports/.gitkeep
