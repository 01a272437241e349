"""Shared fixtures: small synthetic data sets and Runner configs for CPU."""
import os

import os.path as osp

import pytest

import distill3d  # noqa: F401  (CPU support before mmdet3d is used)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_SAMPLES = osp.join(
    osp.dirname(REPO), 'shared', 'data', 'mmdet3d_samples')


@pytest.fixture(scope='session')
def synthetic_kitti(tmp_path_factory) -> str:
    """A 4-train / 2-val frame synthetic KITTI data set (session-wide)."""
    from distill3d.datasets.synthetic.kitti import (KittiSynthConfig,
                                                    create_kitti_dataset)
    root = str(tmp_path_factory.mktemp('synthetic_kitti'))
    create_kitti_dataset(root, seed=0,
                         cfg=KittiSynthConfig(num_train=4, num_val=2))
    return root


@pytest.fixture(scope='session')
def synthetic_semantickitti(tmp_path_factory) -> str:
    """A small synthetic SemanticKITTI data set (session-wide)."""
    from distill3d.datasets.synthetic.semantickitti import (
        SemanticKittiSynthConfig, create_semantickitti_dataset)
    root = str(tmp_path_factory.mktemp('synthetic_semantickitti'))
    create_semantickitti_dataset(
        root,
        seed=0,
        cfg=SemanticKittiSynthConfig(
            train_seqs=(0, ), val_seqs=(8, ), frames_per_seq=3))
    return root


@pytest.fixture
def shared_samples() -> str:
    """The real mmdet3d sample frames in ../shared (skip when absent)."""
    if not osp.isdir(SHARED_SAMPLES):
        pytest.skip(f'real sample frames not found at {SHARED_SAMPLES}')
    return SHARED_SAMPLES


# torch threads of the tests' subprocesses (they inherit it): 2 on this
# 2-core machine, 1 under `make test` (two xdist workers, set there)
os.environ.setdefault('OMP_NUM_THREADS', '2')

# The modules that take longest (idle machine, `--durations`), longest
# first. `make test` runs two pytest-xdist workers with `--dist loadscope
# --no-loadscope-reorder`: each module goes whole to the next free worker
# in collection order, so starting with these keeps the workers' loads
# even (a long module handed out last would run alone at the end).
LONGEST_MODULES = (
    'test_tools/test_demo_benchmark.py',
    'test_models/test_m2skd_cylinder3d.py',
    'test_models/test_pointdistiller_detectors.py',
    'test_models/test_detectors_cpu.py',
    'test_engine/test_distributed.py',
    'test_tools/test_train_test_cli.py',
    'test_tools/test_mmdet3d_tools.py',
    'test_tools/test_fad_train_test_cli.py',
)


def pytest_collection_finish(session):
    """Exempt the objects the imports made (distill3d, mmdet3d, torch and
    the test modules) from full garbage collections, as the command-line
    tools do (``distill3d.utils.freeze_startup_objects``)."""
    from distill3d.utils import freeze_startup_objects
    freeze_startup_objects()


def pytest_collection_modifyitems(session, config, items):
    """Move the :data:`LONGEST_MODULES` to the front, in that order; the
    other modules and every module's own test order stay as collected."""
    tests_dir = osp.join(REPO, 'tests')
    missing = [m for m in LONGEST_MODULES
               if not osp.isfile(osp.join(tests_dir, m))]
    if missing:
        raise pytest.UsageError(
            f'tests/conftest.py LONGEST_MODULES: no such file {missing}')

    def rank(item):
        path = osp.relpath(str(item.path), tests_dir)
        path = path.replace(os.sep, '/')
        if path in LONGEST_MODULES:
            return LONGEST_MODULES.index(path)
        return len(LONGEST_MODULES)

    items[:] = sorted(items, key=rank)  # stable: the rest keep their order
