"""tools/benchmark_distill.py on the tiny synthetic KITTI set."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from helpers import REPO, config_path

FITNETS = config_path(
    'distill/fitnets_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py')
PHASES = ('student_train', 'teacher_infer', 'distill')


@pytest.mark.slow
def test_benchmark_distill(synthetic_kitti, tmp_path):
    out = str(tmp_path / 'bench.json')
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'benchmark_distill.py'), FITNETS,
        '--data-root', synthetic_kitti, '--steps', '2', '--warmup', '1',
        '--batch-size', '1', '--work-dir',
        str(tmp_path / 'work'), '--json', out
    ], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # the config's teacher_ckpt does not exist here: initial teacher
    assert 'does not exist' in proc.stdout

    summary = json.load(open(out))
    # the last stdout line is the same one-line JSON summary
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == summary
    for key in ('config', 'device', 'threads', 'batch_size', 'steps',
                'warmup', 'params', 'times_s', 'ratio', 'overhead_s',
                'peak_mem_mib', 'memory_method'):
        assert key in summary, key
    assert summary['steps'] == 2 and summary['warmup'] == 1
    assert summary['batch_size'] == 1 and summary['device'] == 'cpu'
    params = summary['params']
    assert 0 < params['student'] < params['teacher']
    assert params['adapters'] > 0
    times = summary['times_s']
    assert set(times) == set(PHASES)
    for phase in PHASES:
        t = times[phase]
        assert len(t['all']) == 2
        assert 0 < t['min'] <= t['median'] <= t['max']
    ratio = times['distill']['median'] / (
        times['student_train']['median'] + times['teacher_infer']['median'])
    assert summary['ratio'] == pytest.approx(ratio)
    assert summary['ratio'] > 0
    assert set(summary['peak_mem_mib']) == set(PHASES)
    if summary['memory_method'] is not None:  # Linux: VmHWM reset
        for phase in PHASES:
            assert summary['peak_mem_mib'][phase] > 0
    for phase in PHASES:
        assert phase in proc.stdout
    assert 'ratio distill / (student_train + teacher_infer)' in proc.stdout
