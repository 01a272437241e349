"""tools/benchmark_train_step.py with two families in one run."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from helpers import REPO, config_path

CONFIGS = [
    config_path('centerpoint/centerpoint_pillar016_secfpn_1xb2-cpu_'
                'synthetic-kitti-3d-3class.py'),
    config_path('centerpoint/centerpoint_pillar016_secfpn-4x_1xb2-cpu_'
                'synthetic-kitti-3d-3class.py'),
]


@pytest.mark.slow
def test_two_configs_one_table(synthetic_kitti, tmp_path):
    out = str(tmp_path / 'steps.json')
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'benchmark_train_step.py'), *CONFIGS,
        '--data-root', synthetic_kitti, '--steps', '1', '--warmup', '0',
        '--batch-size', '1', '--threads', '1', '--markdown', '--work-dir',
        str(tmp_path / 'work'), '--json', out
    ], cwd=str(tmp_path), env=dict(os.environ, PYTHONPATH=REPO),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.load(open(out))['results']
    assert [r['config'] for r in res] == CONFIGS
    # the 4x student has about a quarter of the parameters
    assert 3 < res[0]['params'] / res[1]['params'] < 5
    for r in res:
        assert r['train_step_median_s'] > 0 and len(r['train_step_s']) == 1
    rows = [line for line in proc.stdout.splitlines()
            if line.startswith('| centerpoint')]
    assert len(rows) == 2, proc.stdout[-2000:]
