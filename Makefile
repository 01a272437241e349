# distill3d: `make test` runs the tests, `make demo` the main job.
# Both create the environment .venv first when it is missing or outdated
# (tools/setup_env.sh; idempotent, about a second when up to date).
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= work_dirs/demo
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: env test demo data clean-data

env:
	bash tools/setup_env.sh $(VENV)

test: env
	$(PY) -m pytest tests $(PYTEST_ARGS)

demo: env
	$(PY) tools/demo.py --out-dir $(DEMO_DIR) $(DEMO_ARGS)

data: env
	$(PY) tools/create_synthetic_data.py kitti --out-dir data/synthetic_kitti
	$(PY) tools/create_synthetic_data.py semantickitti \
		--out-dir data/synthetic_semantickitti --moving-ids
	$(PY) tools/create_synthetic_data.py modelnet40 \
		--out-dir data/synthetic_modelnet40
	$(PY) tools/create_synthetic_data.py scanobjectnn \
		--out-dir data/synthetic_scanobjectnn --variant OBJ_BG PB_T50_RS
