"""tools/demo.py, tools/benchmark.py and the study runner at a tiny size.

The demo's whole pipeline runs (data generation, the gated one-seed study
of teacher, student and PointDistiller, KittiMetric with its bootstrap,
cost, pictures) on 4 + 3 frames with one epoch each; then
tools/benchmark.py re-reads two of the work dirs, and the study runner
grows the demo's study to two seeds (end to end through tools/train.py and
Runner.test(): reuse of the demo's runs, paired differences, resuming a
lost evaluation, the teacher gate). One module, so that the demo's trained
runs serve all of it.
"""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from helpers import REPO
from PIL import Image

from distill3d.benchmark.report import validate_result
from distill3d.benchmark.stats import VERDICTS
from distill3d.benchmark.study import run_study

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
    with open(root / 'out' / 'results.json') as f:
        first = {m['name']: m['metrics'] for m in json.load(f)['models']}
    log = _run(args + ['--cost-steps', '0'])
    assert 'reusing the kitti data' in log
    for stage in ROWS:
        assert f'{stage} (seed 0): reusing' in log
        # the benchmark's rows too (same checkpoints, config, data)
        assert f'{stage}: reusing the evaluation of' in log
    assert 'Epoch(train)' not in log and 'evaluating ' not in log
    with open(root / 'out' / 'results.json') as f:
        again = {m['name']: m['metrics'] for m in json.load(f)['models']}
    assert again == first


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


# --- the study runner end to end, on the demo's study ----------------------


def _demo_spec(root, margin):
    """The demo's spec with another gate margin (the runs' settings, hence
    their reuse, do not depend on it)."""
    text = (root / 'out' / 'demo_study.py').read_text()
    text, count = re.subn(r'^gate_margin = .*$', f'gate_margin = {margin}',
                          text, flags=re.M)
    assert count == 1
    path = root / f'study_margin{margin:+.0f}.py'
    path.write_text(text)
    return str(path)


@pytest.fixture(scope='module')
def two_seeds(demo_run):
    """The demo's study grown to seeds 0 and 1: seed 0 and the teacher are
    the demo's runs (reused), seed 1 trains its student and method."""
    root, _, _ = demo_run
    spec = _demo_spec(root, -100.0)
    work, report = str(root / 'out'), str(root / 'two_seeds')
    stats = run_study(spec, work, out_dir=report, seeds=[0, 1],
                      command='pytest')
    return root, spec, work, report, stats


@pytest.mark.slow
def test_study_end_to_end(two_seeds):
    root, spec, work, report, stats = two_seeds
    for name in ('study.json', 'study.md', 'study.png'):
        assert osp.isfile(osp.join(report, name))
    with open(osp.join(report, 'study.json')) as f:
        saved = json.load(f)
    for key in ('metric', 'rows', 'paired', 'teacher_gap', 'eval_noise',
                'gate', 'teacher_curve'):
        assert key in saved
    assert saved['metric'] == 'BEV mAP'
    rows = {r['name']: r for r in saved['rows']}
    assert rows['student 4x']['role'] == 'student'
    assert set(rows[ROWS[2]]['seeds']) == {'0', '1'}
    assert set(rows['teacher']['seeds']) == {'0'}
    for row in rows.values():
        assert {'name', 'role', 'config', 'seeds', 'mean', 'std'} <= set(row)
    # the row values are the runs' own evaluations (Runner.test + bootstrap)
    ev = osp.join(work, 'runs', 'student-4x-pointdistiller', 'seed1',
                  'study_eval', 'eval.json')
    with open(ev) as f:
        run_eval = json.load(f)
    assert rows[ROWS[2]]['seeds']['1']['BEV mAP'] == \
        run_eval['metrics']['BEV mAP']
    assert run_eval['num_frames'] == 3
    paired = [p for p in saved['paired'] if p['metric'] == 'BEV mAP']
    assert len(paired) == 1 and len(paired[0]['diffs']) == 2
    assert paired[0]['verdict'] in VERDICTS[:3]  # margin -100: a verdict
    assert saved['gate']['passed']
    assert [p['epoch'] for p in saved['teacher_curve']] == [1]
    assert set(saved['eval_noise']) == {'BEV mAP', '3D mAP'}
    with open(osp.join(report, 'study.md')) as f:
        text = f.read()
    assert 'Teacher gate' in text and 'tools/train.py' in text
    assert Image.open(osp.join(report, 'study.png')).size[0] > 100


@pytest.mark.slow
def test_study_rerun_reuses_and_refits_only_what_is_missing(two_seeds):
    root, spec, work, report, stats = two_seeds
    ckpts = {}
    for dirpath, _, files in os.walk(osp.join(work, 'runs')):
        for name in files:
            if name.endswith('.pth') or name == 'eval.json':
                path = osp.join(dirpath, name)
                ckpts[path] = os.stat(path).st_mtime_ns
    # as if the study was killed before one evaluation finished
    lost = osp.join(work, 'runs', 'student-4x', 'seed0', 'study_eval.json')
    os.remove(lost)
    again = run_study(spec, work, out_dir=report, seeds=[0, 1],
                      command='pytest')
    for path, mtime in ckpts.items():
        if path.endswith('.pth'):
            assert os.stat(path).st_mtime_ns == mtime, path  # not retrained
        elif 'student-4x/seed0' not in path.replace(os.sep, '/'):
            assert os.stat(path).st_mtime_ns == mtime, path
    assert osp.isfile(lost)
    assert [p['diffs'] for p in again['paired']] == \
        [p['diffs'] for p in stats['paired']]


@pytest.mark.slow
def test_study_gate_refuses_a_verdict(two_seeds):
    root, _, work, _, _ = two_seeds
    strict = _demo_spec(root, 100.0)
    out_dir = str(root / 'strict_report')
    stats = run_study(strict, work, out_dir=out_dir, seeds=[0, 1],
                      command='pytest')
    assert not stats['gate']['passed']
    assert 'no verdict' in stats['gate']['reason']
    # the method runs exist (same settings): reported, verdict refused
    assert stats['paired'] and all(p['verdict'] == 'refused'
                                   for p in stats['paired'])
    with open(osp.join(out_dir, 'study.md')) as f:
        assert 'below the margin' in f.read()
