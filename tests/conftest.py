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


os.environ.setdefault('OMP_NUM_THREADS', '2')
