"""tools/demo.py and tools/benchmark.py at a tiny size.

The demo's whole pipeline runs (data generation, the gated one-seed study
of teacher, student and PointDistiller, KittiMetric with its bootstrap,
cost, pictures) on 4 + 3 frames with one epoch each; then
tools/benchmark.py re-reads two of the work dirs.
"""
import json
import os.path as osp
import subprocess
import sys

import pytest
from helpers import REPO
from PIL import Image

from distill3d.benchmark.report import validate_result

ROWS = ['teacher', 'student 4x', 'student 4x + PointDistiller']
CLASSES = ['Pedestrian', 'Cyclist', 'Car']


def _run(args, cwd=REPO):
    proc = subprocess.run([sys.executable] + args, cwd=cwd, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc.stdout


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    args = [
        'tools/demo.py', '--out-dir',
        str(root / 'out'), '--data-root',
        str(root / 'data'), '--num-train', '4', '--num-val', '3',
        '--teacher-epochs', '1', '--student-epochs', '1', '--bootstrap', '5',
        '--cost-steps', '1', '--latency-frames', '2', '--jobs', '2'
    ]
    first = _run(args)
    return root, args, first


@pytest.mark.slow
def test_demo_outputs(demo_run):
    root, _, log = demo_run
    out = root / 'out'
    assert 'generating kitti data' in log
    for stage in ('teacher', 'student 4x', 'student 4x + PointDistiller'):
        assert f'[{stage} (seed 0)] Epoch(train)' in log  # progress shown
    # the gate and the paired gain of the seed are printed
    assert 'teacher gate: teacher ' in log
    assert 'student 4x + PointDistiller - student 4x, BEV mAP, seed 0: ' \
        in log
    with open(out / 'study.json') as f:
        study = json.load(f)
    assert study['gate']['margin'] == 3.0
    assert [p['metric'] for p in study['paired']] == ['BEV mAP', '3D mAP']
    assert osp.isfile(out / 'study.md') and osp.isfile(out / 'demo_study.py')
    with open(out / 'results.json') as f:
        result = json.load(f)
    validate_result(result)
    assert [m['name'] for m in result['models']] == ROWS
    keys = ['BEV mAP', '3D mAP'] + [f'{k} AP {c}' for k in ('BEV', '3D')
                                    for c in CLASSES]
    for row in result['models']:
        assert list(row['metrics']) == keys
        assert all(0 <= v <= 100 for v in row['metrics'].values())
        assert row['latency']['frames'] == 2
        assert row['gmacs'] > 0
    params = [m['params'] for m in result['models']]
    assert params[1] == params[2] and 3.5 < params[0] / params[1] < 4.5
    cost = result['train_cost']
    assert cost['steps'] == 1 and cost['distill_s'] > 0
    md = (out / 'results.md').read_text()
    for name in ROWS:
        assert f'| {name} |' in md
    assert Image.open(out / 'map_bar.png').size == (900, 500)
    assert Image.open(out / 'bev.png').size == (1200, 1200)
    counts = result['bev_counts']
    assert counts['ground truth'] > 0 and 0 <= counts['frame'] < 3
    # the top-N pillars PointDistiller weights (N=1024 in the config)
    assert 0 < counts['nodes'] <= 1024


@pytest.mark.slow
def test_demo_second_run_reuses(demo_run):
    root, args, _ = demo_run
    log = _run(args + ['--cost-steps', '0'])
    assert 'reusing the kitti data' in log
    for stage in ROWS:
        assert f'{stage} (seed 0): reusing' in log
    assert 'Epoch(train)' not in log


@pytest.mark.slow
def test_benchmark_tool_on_work_dirs(demo_run, tmp_path):
    root, _, _ = demo_run
    out = tmp_path / 'bench'
    log = _run([
        'tools/benchmark.py', '--model', 'teacher',
        str(root / 'out' / 'runs' / 'teacher'), '--model', 'kd',
        str(root / 'out' / 'runs' / 'student-4x-pointdistiller' / 'seed0'),
        '--data-root',
        str(root / 'data'), '--out-dir',
        str(out), '--cost-steps', '0', '--latency-frames', '1'
    ])
    assert '| teacher |' in log and '| kd |' in log
    with open(out / 'results.json') as f:
        result = json.load(f)
    validate_result(result)
    assert result['task'] == 'det' and result['train_cost'] is None
    assert result['headline'] == ['BEV mAP', '3D mAP']
    assert osp.isfile(result['files']['bev'])
    broken = dict(result, models=[dict(result['models'][0], metrics={})])
    with pytest.raises(ValueError, match='BEV mAP'):
        validate_result(broken)
