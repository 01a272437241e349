"""The study ledger: a study goes on from its report's ledger when its
work dir is gone, reuses nothing made from another teacher, and trains
the teacher again only when a distillation run needs its checkpoint.
Training and evaluation are replaced by fakes that write what the real
ones write (stamps, checkpoints, bootstrap files); the real runner end to
end is tests/test_tools/test_demo_benchmark.py."""
import json
import os
import os.path as osp
import shutil

import pytest
from helpers import REPO
from helpers import STUDY_DISTILL as DISTILL
from helpers import STUDY_STUDENT as STUDENT
from helpers import STUDY_TEACHER as TEACHER

import distill3d.benchmark.study as study_mod
import distill3d.benchmark.study_runs as study_runs
from distill3d.benchmark.study import import_report, run_study
from distill3d.benchmark.study_ledger import (LEDGER, StudyLedger,
                                              portable_settings)
from distill3d.benchmark.study_runs import RUN_STAMP, Run, write_json

SPEC = f"""
task = 'det'
metric = 'BEV mAP'
metrics = ['BEV mAP']
seeds = [0, 1]
gate_margin = 1.0
jobs = 1
data = dict(type='existing', root='{{root}}')
schedule = dict(max_epochs=1)
bootstrap = dict(num_samples=4, seed=0)
rows = [
    dict(name='student', role='student', config='{STUDENT}'),
    dict(name='+ KD', role='method', config='{DISTILL}'),
    dict(name='teacher', role='teacher', config='{TEACHER}',
         init_from='student', schedule=dict(max_epochs=1, val_interval=1)),
]
"""

#: BEV mAP each fake training gives, by (row, seed)
VALUES = {('student', 0): 10.0, ('student', 1): 12.0, ('teacher', 0): 30.0,
          ('+ KD', 0): 13.0, ('+ KD', 1): 16.0}


class FakeRuns:
    """Stands in for ``train`` / ``evaluate`` / ``teacher_curve``: writes
    the stamp, the checkpoint and the bootstrap file, counts the calls.
    ``teacher_value`` changes what a retrained teacher scores."""

    def __init__(self):
        self.trained, self.evaluated = [], []
        self.teacher_value = VALUES[('teacher', 0)]
        # each fake checkpoint gets its own mtime, one second apart: the
        # ledger tells trainings apart by size and whole-second mtime, and
        # fakes written within one second with equal sizes ('teacher 0
        # 31.0' / 'teacher 0 11.5') would look like one training
        self._mtime = 1_700_000_000

    def value(self, run: Run) -> float:
        if run.role == 'teacher':
            return self.teacher_value
        return VALUES[(run.row, run.seed)]

    def train(self, run, threads=None, force=False):
        stamp = osp.join(run.work_dir, RUN_STAMP)
        old = study_runs.read_json(stamp) or {}
        if old.get('status') == 'done' and \
                old['settings'] == run.settings() and \
                osp.isfile(run.final_checkpoint):
            return dict(checkpoint=run.final_checkpoint, seconds=5.0,
                        reused=True, command=run.command())
        self.trained.append((run.row, run.seed))
        os.makedirs(run.work_dir, exist_ok=True)
        with open(run.final_checkpoint, 'w') as f:
            f.write(f'{run.row} {run.seed} {self.value(run)}')
        self._mtime += 1
        os.utime(run.final_checkpoint, (self._mtime, self._mtime))
        write_json(stamp, dict(settings=run.settings(), status='done',
                               seconds=5.0))
        return dict(checkpoint=run.final_checkpoint, seconds=5.0,
                    reused=False, command=run.command())

    def evaluate(self, run, checkpoint, bootstrap, threads=None,
                 force=False):
        self.evaluated.append((run.row, run.seed))
        with open(checkpoint) as f:
            value = float(f.read().split()[-1])
        boot = osp.join(run.work_dir, 'boot.json')
        # resamples that differ between runs: a paired noise above 0
        values = [value + d * value / 10 for d in (-1., 0., 1., 2.)]
        write_json(boot, dict(indices_seed=0, num_frames=3, num_samples=4,
                              values={'BEV mAP': values}))
        return dict(metrics={'BEV mAP': value}, noise={'BEV mAP': 0.5},
                    classes=['Car'], num_frames=3, bootstrap_file=boot,
                    checkpoint=checkpoint)


@pytest.fixture
def fake(monkeypatch):
    runs = FakeRuns()
    monkeypatch.setattr(study_mod, 'train', runs.train)
    monkeypatch.setattr(study_mod, 'evaluate', runs.evaluate)
    monkeypatch.setattr(
        study_mod, 'teacher_curve',
        lambda *a, **k: [{'epoch': 1, 'BEV mAP': runs.teacher_value}])
    return runs


def _study(tmp_path):
    spec = tmp_path / 'spec.py'
    os.makedirs(tmp_path / 'data', exist_ok=True)
    spec.write_text(SPEC.format(root=tmp_path / 'data'))
    return str(spec)


def _kd(stats):
    return next(p for p in stats['paired'] if p['name'] == '+ KD')


def test_a_study_goes_on_from_its_ledger(tmp_path, fake):
    spec = _study(tmp_path)
    work, out = str(tmp_path / 'work'), str(tmp_path / 'report')
    # session 1: seed 0 only
    first = run_study(spec, work, out_dir=out, seeds=[0])
    assert sorted(fake.trained) == [('+ KD', 0), ('student', 0),
                                    ('teacher', 0)]
    assert _kd(first)['diffs'] == [3.0]
    ledger = json.load(open(osp.join(out, LEDGER)))['runs']
    assert set(ledger) == {'student | seed 0', 'teacher | seed 0',
                           '+ KD | seed 0'}
    kd = ledger['+ KD | seed 0']
    assert kd['upstream'] == {'teacher': {'BEV mAP': 30.0}}
    assert kd['result']['bootstrap']['values']['BEV mAP'] == \
        [11.7, 13.0, 14.3, 15.6]
    assert 'teacher' not in kd['settings']  # no file identity
    assert ledger['teacher | seed 0']['curve'] == [{'epoch': 1,
                                                    'BEV mAP': 30.0}]

    # the same command with the work dir intact: the checkpoints are
    # evaluated (a benchmark may want them), nothing is trained, and the
    # ledger gets no rerun
    fake.trained.clear()
    here = run_study(spec, work, out_dir=out, seeds=[0])
    assert fake.trained == []
    assert all(r['checkpoints']['0'] for r in here['rows'])
    assert 'reruns' not in json.load(open(osp.join(out, LEDGER)))[
        'runs']['teacher | seed 0']

    # the work dir is lost; the report-only call needs nothing but the
    # ledger and gives the same statistics, paired noise included
    shutil.rmtree(work)
    fake.trained.clear()
    fake.evaluated.clear()
    again = run_study(spec, work, out_dir=out, seeds=[0], report_only=True)
    assert fake.trained == [] and fake.evaluated == []
    assert _kd(again)['diffs'] == [3.0]
    assert _kd(again)['eval_noise'] == _kd(first)['eval_noise'] > 0
    assert again['teacher_curve'] == first['teacher_curve']

    # session 2 adds seed 1: KD seed 1 needs the teacher's checkpoint, so
    # the teacher and the student it starts from are trained again (kept
    # as reruns; the seed-0 KD entry stays); student 1 is new
    both = run_study(spec, work, out_dir=out, seeds=[0, 1])
    assert sorted(fake.trained) == [('+ KD', 1), ('student', 0),
                                    ('student', 1), ('teacher', 0)]
    assert _kd(both)['diffs'] == [3.0, 4.0]
    ledger = json.load(open(osp.join(out, LEDGER)))['runs']
    assert len(ledger['teacher | seed 0']['reruns']) == 1
    assert len(ledger['student | seed 0']['reruns']) == 1
    # the same command again in the same session: the checkpoints are
    # reused and are not recorded as reruns a second time
    fake.trained.clear()
    run_study(spec, work, out_dir=out, seeds=[0, 1])
    assert fake.trained == []
    ledger = json.load(open(osp.join(out, LEDGER)))['runs']
    assert len(ledger['teacher | seed 0']['reruns']) == 1

    # session 3 adds nothing: nothing is trained, not even the teacher
    shutil.rmtree(work)
    run_study(spec, work, out_dir=out, seeds=[0, 1])
    assert fake.trained == []


def test_a_retrained_teacher_is_a_new_gated_instance(tmp_path, fake):
    """CPU training is not bit-reproducible: a teacher retrained for its
    checkpoint scores otherwise. The runs made from the first keep their
    results; the new runs record the teacher they learnt from; a
    retrained teacher below the gate distils nothing."""
    spec = _study(tmp_path)
    work, out = str(tmp_path / 'work'), str(tmp_path / 'report')
    run_study(spec, work, out_dir=out, seeds=[0])
    shutil.rmtree(work)
    fake.trained.clear()
    fake.teacher_value = 31.0
    stats = run_study(spec, work, out_dir=out, seeds=[0, 1])
    assert sorted(fake.trained) == [('+ KD', 1), ('student', 0),
                                    ('student', 1), ('teacher', 0)]
    entries = StudyLedger(osp.join(out, LEDGER), ['BEV mAP']).entries()
    assert entries['+ KD | seed 0']['upstream'] == {
        'teacher': {'BEV mAP': 30.0}}
    assert entries['+ KD | seed 1']['upstream'] == {
        'teacher': {'BEV mAP': 31.0}}
    # the report keeps the first teacher, and lists both, each gated
    assert stats['gate']['gap'] == pytest.approx(30.0 - 11.0)
    assert [(t['metrics']['BEV mAP'], t['gate']['passed'])
            for t in stats['teacher_instances']] == [(30.0, True),
                                                     (31.0, True)]
    assert 'Teacher trainings' in open(osp.join(out, 'study.md')).read()

    # a third session retrains a teacher that fails the gate: the missing
    # KD run is not trained from it
    shutil.rmtree(work)
    fake.trained.clear()
    fake.teacher_value = 11.5
    VALUES[('+ KD', 2)], VALUES[('student', 2)] = 14.0, 11.0
    try:
        stats = run_study(spec, work, out_dir=out, seeds=[0, 1, 2])
    finally:
        del VALUES[('+ KD', 2)], VALUES[('student', 2)]
    assert ('+ KD', 2) not in fake.trained
    assert ('student', 2) in fake.trained
    assert [t['gate']['passed'] for t in stats['teacher_instances']] == \
        [True, True, False]


def test_changed_settings_are_not_taken_from_the_ledger(tmp_path):
    ledger = StudyLedger(str(tmp_path / LEDGER), ['BEV mAP'])
    run = Run(row='student', role='student', seed=0,
              config=osp.join(REPO, STUDENT), work_dir=str(tmp_path / 'w'),
              data_root=str(tmp_path), options={'randomness.seed': 0},
              max_epochs=2, task='det', config_hash='abc')
    res = dict(metrics={'BEV mAP': 10.0}, noise={'BEV mAP': 0.5})
    ledger.record(run.row, run.seed, run.settings(), res, 5.0, 'cmd')
    assert ledger.lookup('student', 0, run.settings())['result'][
        'metrics'] == {'BEV mAP': 10.0}
    assert ledger.lookup('student', 1, run.settings()) is None
    other = dict(run.settings(), config_hash='abd')
    assert ledger.lookup('student', 0, other) is None
    # the identity of a teacher file does not count, its path does
    with_file = dict(run.settings(), teacher=dict(size=3, mtime=4))
    assert portable_settings(with_file) == portable_settings(run.settings())
    assert ledger.lookup('student', 0, with_file) is not None
    # a retraining of the same settings is kept beside the result, once
    # per checkpoint
    again = dict(metrics={'BEV mAP': 11.0}, noise={'BEV mAP': 0.5})
    for _ in range(2):
        ledger.record(run.row, run.seed, run.settings(), again, 6.0, 'cmd',
                      rerun=True, checkpoint_id=dict(size=1, mtime=2))
    entry = ledger.lookup('student', 0, run.settings())
    assert entry['result']['metrics'] == {'BEV mAP': 10.0}
    assert [r['metrics'] for r in entry['reruns']] == [{'BEV mAP': 11.0}]
    write_json(ledger.path, dict(version=99, runs={}))
    with pytest.raises(ValueError, match='ledger version 99'):
        ledger.entries()


def test_import_report_seeds_the_ledger(tmp_path, fake):
    """A committed study.json whose work dir is gone: its runs go into the
    ledger as the spec plans them now, so the study adds seeds without
    retraining them."""
    spec = _study(tmp_path)
    work, out = str(tmp_path / 'work'), str(tmp_path / 'report')
    run_study(spec, work, out_dir=out, seeds=[0])
    report_path = tmp_path / 'old_study.json'
    shutil.copy(osp.join(out, 'study.json'), report_path)
    shutil.rmtree(work)
    os.remove(osp.join(out, LEDGER))
    keys = import_report(spec, work, str(report_path), out_dir=out)
    assert sorted(keys) == ['+ KD | seed 0', 'student | seed 0',
                            'teacher | seed 0']
    entries = StudyLedger(osp.join(out, LEDGER), ['BEV mAP']).entries()
    assert 'old_study.json' in entries['+ KD | seed 0']['imported']
    assert import_report(spec, work, str(report_path), out_dir=out) == []
    fake.trained.clear()
    stats = run_study(spec, work, out_dir=out, seeds=[0], report_only=True)
    assert fake.trained == [] and _kd(stats)['diffs'] == [3.0]
    # no bootstrap resamples in a report: no paired noise for those runs
    assert _kd(stats)['eval_noise'] is None
