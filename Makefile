# The README's commands. Every target is idempotent.
VENV ?= .venv
PY := $(VENV)/bin/python
CHAOSEXT := $(VENV)/bin/chaosext

.PHONY: setup demo test lint dist release-test kube-up kube-down kind-up kind-down kind-ci stack-up stack-down bench

setup:            ## install everything (apt, venv, Kafka jars, Toxiproxy, Kubernetes binaries) into caches
	bash scripts/setup.sh

demo:             ## the main job: stack up, run every experiment, keep journals, stack down
	bash scripts/run-experiments.sh

test:             ## the whole test suite against real components (starts what it needs)
	bash scripts/test.sh

lint:
	$(VENV)/bin/ruff check chaosext tests bench cluster/services cluster/ci
	$(VENV)/bin/mypy chaosext

dist:             ## the sdist and wheel a release publishes, into dist/ (docs/releasing.md)
	$(PY) -m build --outdir dist .

release-test:     ## build, pip install into fresh venvs outside the checkout, run as a user would (the stack included)
	$(VENV)/bin/pytest tests/release

kube-up:
	@$(PY) -m chaosext.localkube up

kube-down:
	@$(PY) -m chaosext.localkube down

kind-up:          ## Docker engine, node image, kind cluster, the sample stack deployed and checked
	bash scripts/kind-up.sh

kind-down:        ## delete the kind cluster; the Docker engine is left as it was found
	bash scripts/kind-down.sh

kind-ci:          ## chaos.yml's own steps here, from its YAML: make kind-ci EXPERIMENTS="a.json b.json" [VAR_FILE=... DEPLOY_STACK=false ... ARGS=--plan]
	$(PY) cluster/ci/run_workflow.py --inputs-from-env "$(filter-out ARGS VENV,$(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v))))" $(ARGS)

stack-up:
	$(CHAOSEXT) stack up

stack-down:
	$(CHAOSEXT) stack down

bench:
	$(PY) bench/stack_up.py
