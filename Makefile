# distill3d: `make test` runs the tests, `make demo` the main job.
# Both create the environment .venv first when it is missing or outdated
# (tools/setup_env.sh; idempotent, about a second when up to date).
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= work_dirs/demo
PYTEST_ARGS ?=
# test processes (pytest-xdist; 0: one process). Each gets one torch
# thread; a test module stays on one worker (its fixtures are built once)
# and the heaviest modules start first (tests/conftest.py)
TEST_JOBS ?= 2
DEMO_ARGS ?=
# the compat stack (torch 2.1 + numpy 1.23 + mmcv 2.1.0 built against it)
# and the representative subset `make test-compat` runs on it
COMPAT_VENV ?= .venv-compat
COMPAT_TESTS ?= tests/test_utils tests/test_cpu_support \
	tests/test_models/test_losses tests/test_models/test_recorders \
	tests/test_models/test_distillers/test_distiller3d.py \
	tests/test_datasets/test_synthetic_kitti.py \
	tests/test_benchmark/test_stats.py tests/test_apis/test_inspect.py \
	tests/test_engine/test_distill_resume.py

.PHONY: env env-compat test test-compat demo data clean-data

env:
	bash tools/setup_env.sh $(VENV)

test: env
	OMP_NUM_THREADS=$(if $(filter 0,$(TEST_JOBS)),2,1) $(PY) -m pytest tests \
		-n $(TEST_JOBS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

env-compat:
	bash tools/setup_env.sh $(COMPAT_VENV) compat

test-compat: env-compat
	$(COMPAT_VENV)/bin/python -m pytest $(COMPAT_TESTS) $(PYTEST_ARGS)

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
