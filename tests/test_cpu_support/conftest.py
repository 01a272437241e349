"""Shared fixtures of the CPU-support tests.

``distill3d`` is imported first so that every test reaches mmcv's public
API with the CPU routes installed (and mmdet3d's numba-CUDA ``rotate_iou``
module replaced before anything imports it).
"""
import pytest
import torch

import distill3d  # noqa: F401


@pytest.fixture(autouse=True)
def _seed():
    """Fixed seed for every test."""
    torch.manual_seed(0)
