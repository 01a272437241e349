# Copyright (c) distill3d contributors. All rights reserved.
"""mmdet3d's KITTI overlap kernel (numba, parallel) must leave torch's
thread count at OMP_NUM_THREADS once distill3d is imported."""
import os
import subprocess
import sys

import pytest

from distill3d.utils.numba_threads import match_numba_threads

SCRIPT = r'''
import distill3d  # first, as the tools do
import numpy as np
import torch
from mmdet3d.evaluation.functional.kitti_utils.eval import d3_box_overlap

before = torch.get_num_threads()
rng = np.random.default_rng(0)
# camera boxes: x, y, z, l, h, w, ry
boxes = np.concatenate([rng.uniform(0, 10, (8, 3)), rng.uniform(1, 3, (8, 3)),
                        rng.uniform(-3, 3, (8, 1))], axis=1)
iou = d3_box_overlap(boxes, boxes)
assert np.allclose(np.diag(iou), 1, atol=1e-4), np.diag(iou)
print(before, torch.get_num_threads())
'''


@pytest.mark.skipif((os.cpu_count() or 1) < 2,
                    reason='one core: numba has no second thread to start')
def test_kitti_kernel_keeps_torch_threads():
    env = {k: v for k, v in os.environ.items() if k != 'NUMBA_NUM_THREADS'}
    env['OMP_NUM_THREADS'] = '1'
    out = subprocess.run([sys.executable, '-c', SCRIPT], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-2:] == ['1', '1'], out.stdout


def test_match_numba_threads(monkeypatch):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    monkeypatch.delenv('NUMBA_NUM_THREADS', raising=False)
    assert match_numba_threads()
    assert 'NUMBA_NUM_THREADS' not in os.environ
    # numba is imported in this test process: too late to change it
    import numba  # noqa: F401
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    assert not match_numba_threads()
    assert 'NUMBA_NUM_THREADS' not in os.environ
    monkeypatch.setenv('NUMBA_NUM_THREADS', '1')
    assert match_numba_threads()
