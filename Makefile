# Routine tasks. `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup setup-peers run test test-unit test-notebooks test-browser test-slow lint format clean notebooks course grade student bench bench-peers bench-trainer-rate bench-quora ablate ablate-finetune

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

## the full lab on the packaged encoder: pretrain, evaluate, finetune, evaluate, compare.
## Data: DATA=folder, else $$MTLAB_DATA_DIR, else data/, else the shipped sample (it says which)
run: setup
	$(PY) -m mtlab --output-dir runs/latest $(if $(DATA),--data-dir $(DATA))

## the quick tier: unit tests, the notebooks under nbval in the fast profile, then in JupyterLab
test: setup test-unit test-notebooks test-browser

test-unit: setup
	$(PY) -m pytest tests/

## the slow tier (CI runs it after `make test`): whole notebooks and runs in subprocesses, the
## two-process run, the peers; installs the peers extra first
test-slow: setup-peers
	$(PY) -m pytest -m slow tests/

test-notebooks: setup
	$(PY) -m pytest --nbval notebooks/

## notebooks in JupyterLab in headless Chromium (the system's: installed here when missing and root)
CHROMIUM ?= /usr/bin/chromium
test-browser: setup
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	MTLAB_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -m browser tests/browser

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) runs .pytest_cache

## re-execute the notebooks in place (fast profile) after editing them
notebooks: setup
	MTLAB_FAST=1 $(PY) scripts/execute_notebooks.py notebooks/*.ipynb

## the nbgrader course in course/: source/mtlab/ from notebooks/, then nbgrader's release/mtlab/
## (solutions and hidden tests out, outputs cleared); registers the lab's kernel "mtlab" in the venv
NBGRADER := cd course && PATH=$(abspath $(VENV))/bin:$$PATH nbgrader
course: setup
	$(PY) -m ipykernel install --sys-prefix --name mtlab --display-name "Python (mtlab)" >/dev/null
	$(PY) scripts/build_course.py
	$(NBGRADER) generate_assignment mtlab --force

## grade what students handed in (course/submitted/STUDENT/mtlab/): points, feedback, class view
grade: course
	$(NBGRADER) autograde mtlab
	$(NBGRADER) generate_feedback mtlab
	$(PY) -m mtlab class-view course

## the student version of the notebooks in student/: nbgrader's release, movable as a whole
student: course
	rm -rf student && cp -r course/release/mtlab student

## speed against naive baselines, measured in the same run (uses $MTLAB_DATA_DIR if set)
bench: setup
	$(PY) -m bench

## benchmark-only dependencies: transformers' Trainer (accelerate) and sentence-transformers
setup-peers: $(VENV)/.installed-peers

$(VENV)/.installed-peers: requirements-peers.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-peers.txt
	touch $@

## the bench with the tools a student would pick instead, same encoder folder, nothing downloaded
bench-peers: setup-peers
	HF_HUB_OFFLINE=1 $(PY) -m bench --peers

## mtlab's finetune rate against the Trainer's: three pairs of the same SST steps (uses $MTLAB_DATA_DIR);
## bf16 as in the README's numbers, TRAINER_RATE_PRECISION=fp32 for float32
TRAINER_RATE_PRECISION ?= bf16
bench-trainer-rate: setup-peers
	HF_HUB_OFFLINE=1 $(PY) scripts/trainer_rate_spread.py --precision $(TRAINER_RATE_PRECISION)

## a course-size Quora (141,506 pairs, in memory) under a 2-minute finetune budget (uses $MTLAB_DATA_DIR)
bench-quora: setup
	$(PY) scripts/bench_course_quora.py --budget-minutes 2 --schedule sqrt

## one change at a time on the frozen encoder: heads, epochs, lr, schedule, dropout (uses $MTLAB_DATA_DIR)
ablate: setup
	$(PY) scripts/ablate_pretrain.py --out results/ablate-pretrain

## the finetuning extensions one at a time, seeds 0-2, resumable: hours on 2 cores (uses $MTLAB_DATA_DIR)
ablate-finetune: setup
	$(PY) scripts/ablate_finetune.py
