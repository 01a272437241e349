"""tools/benchmark_train_step.py with two models in one run (in process:
no second interpreter to import mmdet3d)."""
import json
import os.path as osp
import runpy
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
def test_two_configs_one_table(synthetic_kitti, tmp_path, monkeypatch,
                               capsys):
    out = str(tmp_path / 'steps.json')
    monkeypatch.setattr(sys, 'argv', [
        'benchmark_train_step.py', *CONFIGS, '--data-root', synthetic_kitti,
        '--steps', '1', '--warmup', '0', '--batch-size', '1', '--markdown',
        '--work-dir', str(tmp_path / 'work'), '--json', out
    ])
    runpy.run_path(osp.join(REPO, 'tools', 'benchmark_train_step.py'),
                   run_name='__main__')
    stdout = capsys.readouterr().out
    res = json.load(open(out))['results']
    assert [r['config'] for r in res] == CONFIGS
    # the 4x student has about a quarter of the parameters
    assert 3 < res[0]['params'] / res[1]['params'] < 5
    for r in res:
        assert r['train_step_median_s'] > 0 and len(r['train_step_s']) == 1
    rows = [line for line in stdout.splitlines()
            if line.startswith('| centerpoint')]
    assert len(rows) == 2, stdout[-2000:]
