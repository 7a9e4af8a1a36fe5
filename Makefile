# Every target installs what it needs: a fresh clone runs `make synth` or `make test` directly.
# `python -m base.config` reads cdk.json first: the CDK CLI reports a JSON mistake as an offset only.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# checkov pins boto3 and more apart from the app: its own virtualenv, run by the tests as a subprocess.
CHECKOV_VENV := .venv-checkov
CDK := npx --no-install cdk
ENV ?=
CDK_ENV := $(if $(ENV),-c env=$(ENV),)
# Without the secret seed, `make synth` and `make diff` sign @step payloads with the published development
# key: environments with an account then synthesize, and their pipeline stacks refuse to deploy.
# `make deploy` never does this: an environment with an account needs PIPELINE_DEFS_SIGNING_SEED.
DEVELOPMENT_SIGNING := $(if $(PIPELINE_DEFS_SIGNING_SEED),,PIPELINE_DEFS_DEVELOPMENT_SIGNING=1)
DEVELOPMENT_SIGNING_NOTE := $(if $(PIPELINE_DEFS_SIGNING_SEED),true,echo "note: PIPELINE_DEFS_SIGNING_SEED is not set: @step payloads are signed with the published development key, and the pipeline stacks of environments with an account will refuse to deploy" >&2)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: install install-dev synth test lint diff deploy bench bench-scale mutation clean

$(VENV)/.runtime: requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt constraints-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt -c constraints-checkov.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.runtime node_modules/.installed

install-dev: $(VENV)/.dev $(CHECKOV_VENV)/.installed node_modules/.installed

## synth: synthesize every stack of every environment into cdk.out (ENV=name for one)
synth: install
	$(PY) -m base.config
	@$(DEVELOPMENT_SIGNING_NOTE)
	$(DEVELOPMENT_SIGNING) $(CDK) synth --quiet $(CDK_ENV)

## test: the whole suite (unit, synth-level, cfn-lint, cdk-nag, checkov, determinism, offline)
test: install-dev
	$(PY) -m pytest

## diff: what `cdk deploy` would change, per stack (ENV=name for one)
diff: install
	$(PY) -m base.config
	@$(DEVELOPMENT_SIGNING_NOTE)
	$(DEVELOPMENT_SIGNING) $(CDK) diff $(CDK_ENV)

## deploy: deploy one environment, e.g. `make deploy ENV=prod`, or one pipeline's stack with PIPELINE=<module name>
deploy: install
	@test -n "$(ENV)" || { echo "error: name the environment: make deploy ENV=<name> [PIPELINE=<name>]" >&2; exit 2; }
	$(PY) -m base.config
	$(CDK) deploy $(CDK_ENV) --require-approval broadening $(if $(PIPELINE),"$(ENV)/Pipeline$$($(PY) -c 'import sys; from base.naming import construct_id; print(construct_id(module_pipeline_name=sys.argv[1]))' '$(PIPELINE)')" --exclusively,--all --concurrency 10)

## bench: synth and test-suite wall times against a bare CDK app measured in the same run
bench: install-dev
	$(PY) benchmarks/synth.py

## bench-scale: cold, warm and stubbed synth at 5, 50, 200 and 500 pipelines, with quota headroom
##              e.g. `make bench-scale SIZES=5,50 REPEAT=3` (long at full size; ENV=name, default prod)
bench-scale: $(VENV)/.runtime
	$(PY) benchmarks/scale.py $(if $(SIZES),--sizes $(SIZES),) $(if $(ENV),--env $(ENV),) $(if $(REPEAT),--repeat $(REPEAT),)

## mutation: mutation score per module of the security and data paths (slow, so not in `make test`)
##           e.g. `make mutation GROUP=lambda`; RESUME=1 re-runs only the last run's surviving mutants
mutation: $(VENV)/.dev
	$(PY) benchmarks/mutation.py $(if $(GROUP),--group $(GROUP),) $(if $(RESUME),--resume,)

clean:
	rm -rf cdk.out cdk.out.compile .pytest_cache

.PHONY: review local-run compile cost-report drift

# Checked before any prerequisite runs, so a usage error installs nothing. Each recipe runs
# `python -m tools.<name>`; make turns any failing recipe into its own exit code 2, so scripts that
# need the command's exit code (README, "Exit codes") call it directly.
ifneq ($(filter review,$(MAKECMDGOALS)),)
ifeq ($(BASE),)
$(error name the base ref: make review BASE=origin/main [MARKDOWN=1])
endif
endif
ifneq ($(filter drift,$(MAKECMDGOALS)),)
ifeq ($(ENV),)
$(error name the environment: make drift ENV=<name> (after make synth ENV=<name>))
endif
endif
ifneq ($(filter local-run,$(MAKECMDGOALS)),)
ifeq ($(PIPELINE),)
$(error name the pipeline: make local-run PIPELINE=<name> [BUCKET=<s3 bucket>] [ENV=sandbox])
endif
endif
ifneq ($(filter cost-report,$(MAKECMDGOALS)),)
ifeq ($(and $(ENV),$(START),$(END)),)
$(error name the environment and days: make cost-report ENV=prod START=2026-11-01 END=2026-12-01 [GRANULARITY=DAILY])
endif
endif

## review: what the working tree changes against BASE, per environment; fails when security-relevant
##         e.g. `make review BASE=origin/main` (MARKDOWN=1 for a pull-request comment)
review: install
	$(PY) -m tools.review --base $(BASE) $(if $(MARKDOWN),--markdown,)

## local-run: one pipeline with LocalPipelineSession (needs Docker; without it, names the job tests)
##            e.g. `make local-run PIPELINE=train-evaluate-register BUCKET=my-scratch-bucket`
local-run: install
	$(PY) -m tools.local_run $(PIPELINE) --env $(or $(ENV),sandbox) $(if $(BUCKET),--bucket $(BUCKET),)

## compile: every pipeline of one environment into cdk.out.compile/ without CDK (ENV=name, default sandbox)
compile: install
	$(DEVELOPMENT_SIGNING) $(PY) -m tools.compile --env $(or $(ENV),sandbox) --out cdk.out.compile

## cost-report: spend per pipeline from Cost Explorer (needs the paying account's credentials)
##              e.g. `make cost-report ENV=prod START=2026-11-01 END=2026-12-01`
cost-report: install
	$(PY) -m tools.cost_report --env $(ENV) --start $(START) --end $(END) $(if $(GRANULARITY),--granularity $(GRANULARITY),)

## drift: deployed pipelines of one environment against cdk.out (`make synth ENV=<name>` first); exit 1 on drift
##        e.g. `make drift ENV=prod` (make turns exit 1 into 2; `.venv/bin/python -m tools.drift` keeps it)
drift: $(VENV)/.runtime
	$(PY) -m tools.drift --env $(ENV)
