"""The study runner (issue 12): spec checks, schedules, planning, reuse
and resume. The runner end to end (tools/train.py, Runner.test(), two
seeds, reuse after an interruption, the teacher gate) runs on the demo's
study: tests/test_tools/test_demo_benchmark.py."""
import glob
import json
import os
import os.path as osp
import time

import pytest
from helpers import REPO
from helpers import STUDY_DISTILL as DISTILL
from helpers import STUDY_STUDENT as STUDENT
from helpers import STUDY_TEACHER as TEACHER

from distill3d.benchmark.study import plan_runs
from distill3d.benchmark.study_runs import (RUN_STAMP, Run, run_parallel,
                                            schedule_options, train)
from distill3d.benchmark.study_spec import (StudySpecError, load_study,
                                            rows_by_role, slug)

SPEC = """
task = 'det'
seeds = [0, 1]
gate_margin = {margin}
jobs = 2
data = dict(type='kitti', root='{root}/data', seed=0,
            settings=dict(num_train=4, num_val=3))
schedule = dict(max_epochs=1)
cfg_options = {{
    'train_dataloader.num_workers': 0,
    'train_dataloader.persistent_workers': False,
    'val_dataloader.num_workers': 0,
    'val_dataloader.persistent_workers': False,
    'test_dataloader.num_workers': 0,
    'test_dataloader.persistent_workers': False,
}}
bootstrap = dict(num_samples=5, seed=0)
rows = [
    dict(name='student', role='student', config='{student}'),
    dict(name='+ PointDistiller', role='method', config='{distill}'),
    dict(name='teacher', role='teacher', config='{teacher}',
         schedule=dict(max_epochs=1, val_interval=1)),
]
"""


def _spec(path, root, margin=-100.0, **rows):
    text = SPEC.format(margin=margin, root=root, student=STUDENT,
                       distill=DISTILL, teacher=TEACHER)
    for key, value in rows.items():
        text = text.replace(key, value)
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


# --- fast checks -----------------------------------------------------------


def test_spec_errors_name_the_key(tmp_path):
    good = _spec(tmp_path / 'good.py', tmp_path)
    study = load_study(good, root=REPO)
    assert study.metric == 'BEV mAP'
    assert study.metrics == ['BEV mAP', '3D mAP']
    assert study.gate_margin == -100.0
    assert [r['seeds'] for r in study.rows] == [[0, 1], [0, 1], [0]]
    cases = {
        "role='student', config": ("role='method', config", 'exactly one'),
        "name='teacher', role='teacher'": ("name='teacher', role='method'",
                                           "role='teacher'"),
        STUDENT: (STUDENT + '.missing', 'does not exist'),
        "task = 'det'": ("task = 'detection'", 'task'),
        'jobs = 2': ('jobs = 4', 'jobs'),
    }
    for i, (old, (new, message)) in enumerate(cases.items()):
        bad = _spec(tmp_path / f'bad{i}.py', tmp_path, **{old: new})
        with pytest.raises(StudySpecError, match=message):
            load_study(bad, root=REPO)
    with pytest.raises(StudySpecError, match='no rows named'):
        load_study(good, root=REPO, only_rows=['+ FitNets'])
    assert [r['name'] for r in load_study(good, root=REPO,
                                          only_rows=[]).rows] == \
        ['student', 'teacher']


def test_reference_row_is_compared_with_every_other_method(tmp_path):
    """``reference``: each other method row minus that row, seed by seed,
    in study.json and study.md; --rows keeps the reference row."""
    from distill3d.benchmark.study import collect
    from distill3d.benchmark.study_report import markdown
    rows = ("dict(name='+ PointDistiller', role='method', "
            "config='{d}'),\n    dict(name='+ KD', role='method', "
            "config='{d}'),\n    dict(name='teacher',").format(d=DISTILL)
    path = _spec(tmp_path / 'ref.py', tmp_path, **{
        "dict(name='+ PointDistiller', role='method', config='" + DISTILL +
        "'),\n    dict(name='teacher',": rows,
        'jobs = 2': "jobs = 2\nreference = '+ KD'"})
    study = load_study(path, root=REPO, only_rows=['+ PointDistiller'])
    assert [r['name'] for r in study.rows] == [
        'student', '+ PointDistiller', '+ KD', 'teacher']
    values = {'student': [10., 12.], '+ PointDistiller': [13., 14.],
              '+ KD': [12., 16.], 'teacher': [30.]}
    results = {
        name: {seed: dict(metrics={'BEV mAP': v, '3D mAP': v - 5},
                          noise={'BEV mAP': 1.0, '3D mAP': 1.0})
               for seed, v in enumerate(vals)}
        for name, vals in values.items()}
    stats = collect(study, results, [], {}, {})
    assert stats['settings']['reference'] == '+ KD'
    ref = [p for p in stats['vs_reference'] if p['metric'] == 'BEV mAP']
    assert [p['name'] for p in ref] == ['+ PointDistiller']
    assert ref[0]['diffs'] == [1.0, -2.0]
    assert ref[0]['reference'] == '+ KD'
    assert ref[0]['verdict'] == 'unclear'
    # against the plain student both are paired as before
    plain = {p['name']: p['diffs'] for p in stats['paired']
             if p['metric'] == 'BEV mAP'}
    assert plain == {'+ PointDistiller': [3.0, 2.0], '+ KD': [2.0, 4.0]}
    text = markdown(dict(stats, title='t'))
    assert '## Paired difference to + KD (same seed)' in text
    assert '| + PointDistiller | BEV mAP | +1.0 / -2.0 | -0.50 |' in text
    bad = _spec(tmp_path / 'bad_ref.py', tmp_path,
                **{'jobs = 2': "jobs = 2\nreference = 'teacher'"})
    with pytest.raises(StudySpecError, match='reference must name a method'):
        load_study(bad, root=REPO)


def test_row_schedules_change_one_row_of_an_inherited_spec(tmp_path):
    base = _spec(tmp_path / 'base.py', tmp_path)
    child = tmp_path / 'child.py'
    child.write_text("_base_ = ['./base.py']\n"
                     'schedule = dict(max_epochs=2)\n'
                     "row_schedules = {'teacher': dict(max_epochs=5)}\n")
    study = load_study(str(child), root=REPO)
    assert {r['name']: r['schedule'] for r in study.rows} == {
        'student': dict(max_epochs=2),
        '+ PointDistiller': dict(max_epochs=2),
        'teacher': dict(max_epochs=5, val_interval=1)}
    assert load_study(base, root=REPO).rows[-1]['schedule'] == dict(
        max_epochs=1, val_interval=1)
    child.write_text("_base_ = ['./base.py']\n"
                     "row_schedules = {'teacher ': dict(max_epochs=5)}\n")
    with pytest.raises(StudySpecError, match='row_schedules names no row'):
        load_study(str(child), root=REPO)


def test_schedule_options_stretch_the_epoch_schedulers():
    opts = schedule_options(osp.join(REPO, STUDENT), 3)
    assert opts['train_cfg.max_epochs'] == 3
    # the cosine decay (by epoch, end = T_max = 20) follows; the
    # iteration-based warm-up (param_scheduler.0) stays
    assert opts['param_scheduler.1.T_max'] == 3
    assert opts['param_scheduler.1.end'] == 3
    assert not any(k.startswith('param_scheduler.0') for k in opts)
    assert opts['train_cfg.val_begin'] == 4  # no validation while training
    with_val = schedule_options(osp.join(REPO, TEACHER), 8, val_interval=1)
    assert with_val['train_cfg.val_interval'] == 1
    assert with_val['train_cfg.val_begin'] == 1


def test_plan_gives_methods_the_teacher(tmp_path):
    study = load_study(_spec(tmp_path / 's.py', tmp_path), root=REPO)
    runs = plan_runs(study, str(tmp_path / 'w'), 'data', 't.pth')
    method = runs['+ PointDistiller']
    assert [r.seed for r in method] == [0, 1]
    assert all(r.options['teacher_ckpt'] == 't.pth' for r in method)
    assert method[1].options['randomness.seed'] == 1
    assert method[1].work_dir.endswith(osp.join('runs', 'pointdistiller',
                                                'seed1'))
    assert 'teacher_ckpt' not in runs['student'][0].options
    # a method that trains its own teacher (M2SKD shared weights) gets none
    study.rows[1]['own_teacher'] = True
    runs = plan_runs(study, str(tmp_path / 'w'), 'data', 't.pth')
    assert 'teacher_ckpt' not in runs['+ PointDistiller'][0].options
    assert runs['teacher'][0].work_dir.endswith(osp.join('runs', 'teacher'))
    assert slug('+ logit KD (T=4)') == 'logit-kd-t-4'


def test_interrupted_training_resumes(tmp_path, monkeypatch):
    """A run whose stamp says 'running' and that left a checkpoint is
    resumed (``--resume``), not restarted."""
    import distill3d.benchmark.study_runs as study_runs
    run = Run(row='student', role='student', seed=0,
              config=osp.join(REPO, STUDENT), work_dir=str(tmp_path),
              data_root=str(tmp_path), options={'randomness.seed': 0},
              max_epochs=2, task='det', config_hash='abc')
    calls, during = [], []

    def fake_stream(cmd, log_path, label, threads, keep, on_kept=None):
        calls.append(cmd)
        clock = time.time() + 50.0  # 50 s of training pass
        monkeypatch.setattr(time, 'time', lambda: clock)
        on_kept()  # an epoch line: the time so far reaches the stamp
        during.append(json.load(open(tmp_path / RUN_STAMP)))
        open(run.final_checkpoint, 'w').close()
        return 0

    monkeypatch.setattr(study_runs, '_stream', fake_stream)
    with open(tmp_path / RUN_STAMP, 'w') as f:
        json.dump(dict(settings=run.settings(), status='running',
                       seconds=100.0), f)
    (tmp_path / 'epoch_1.pth').write_text('')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    out = train(run)
    assert '--resume' in calls[0]
    assert out['seconds'] >= 100.0  # the interrupted part counts
    # a study killed now would resume with the time spent so far
    assert during[0]['status'] == 'running'
    assert during[0]['seconds'] >= 150.0
    assert json.load(open(tmp_path / RUN_STAMP))['status'] == 'done'
    # done with the same settings: reused, nothing runs
    assert train(run)['reused'] and len(calls) == 1
    # other settings (a new seed): trained from scratch; the old epochs
    # and their stamp are set aside, not deleted
    run.options = {'randomness.seed': 1}
    train(run)
    assert '--resume' not in calls[1]
    aside = tmp_path / 'superseded'
    assert sorted(os.listdir(aside)) == sorted(
        ['epoch_1.pth', 'epoch_2.pth', 'last_checkpoint', RUN_STAMP])
    old = json.load(open(aside / RUN_STAMP))
    assert old['settings']['options']['randomness.seed'] == 0
    assert not (tmp_path / 'epoch_1.pth').exists()


def test_evaluation_gets_the_runs_test_options(tmp_path, monkeypatch):
    """A study option that shapes the test set (a ScanObjectNN variant)
    reaches the evaluation subprocess; training-only options do not; a
    changed test option re-evaluates."""
    import distill3d.benchmark.study_runs as study_runs
    options = {'randomness.seed': 0, 'train_dataloader.num_workers': 1,
               'test_dataloader.dataset.variant': 'PB_T50_RS',
               'test_evaluator.type': 'ClsMetric'}
    run = Run(row='student', role='student', seed=0, config=STUDENT,
              work_dir=str(tmp_path), data_root=str(tmp_path),
              options=options, max_epochs=1, task='cls', config_hash='abc')
    cmds = []

    def fake_stream(cmd, log_path, label, threads, keep):
        cmds.append(cmd)
        with open(cmd[cmd.index('--out') + 1], 'w') as f:
            json.dump(dict(metrics=dict(OA=50.), noise=dict(OA=1.)), f)
        return 0

    monkeypatch.setattr(study_runs, '_stream', fake_stream)
    ckpt = tmp_path / 'epoch_1.pth'
    ckpt.write_text('')
    bootstrap = dict(num_samples=5, seed=0)
    study_runs.evaluate(run, str(ckpt), bootstrap)
    tail = cmds[0][cmds[0].index('--cfg-options') + 1:]
    assert tail == ['test_dataloader.dataset.variant=PB_T50_RS',
                    'test_evaluator.type=ClsMetric']
    study_runs.evaluate(run, str(ckpt), bootstrap)
    assert len(cmds) == 1  # same settings: reused
    run.options = dict(options, **{'test_dataloader.dataset.variant':
                                   'OBJ_BG'})
    study_runs.evaluate(run, str(ckpt), bootstrap)
    assert len(cmds) == 2 and \
        'test_dataloader.dataset.variant=OBJ_BG' in cmds[1]


def test_seed_override_keeps_the_teachers_seed(tmp_path):
    """``--seeds 1 2`` runs more student seeds; the study's one teacher
    keeps the spec's seed (else its checkpoint would be retrained)."""
    spec = _spec(tmp_path / 'spec.py', tmp_path)
    study = load_study(spec, seeds=[1, 2], root=REPO)
    teacher, = rows_by_role(study, 'teacher')
    student, = rows_by_role(study, 'student')
    assert teacher['seeds'] == [0] and study.teacher_seed == 0
    assert student['seeds'] == [1, 2]


def test_more_validation_frames_keep_the_training(tmp_path, monkeypatch):
    """Synthetic KITTI frame i does not depend on num_val: a study that
    grows its validation set reuses its trained runs."""
    import distill3d.benchmark.study_runs as study_runs
    from distill3d.datasets.synthetic.kitti import (KittiSynthConfig,
                                                    create_kitti_dataset)
    small, large = str(tmp_path / 'a'), str(tmp_path / 'b')
    create_kitti_dataset(small, 0, KittiSynthConfig(num_train=2, num_val=1))
    create_kitti_dataset(large, 0, KittiSynthConfig(num_train=2, num_val=2))
    for sub in ('training/velodyne_reduced/000001.bin',
                'kitti_dbinfos_train.pkl', 'kitti_infos_train.pkl',
                'training/velodyne_reduced/000002.bin'):
        with open(osp.join(small, sub), 'rb') as f, \
                open(osp.join(large, sub), 'rb') as g:
            assert f.read() == g.read(), sub
    stamp = dict(type='kitti', seed=0, settings=dict(num_train=2, num_val=1))
    a = dict(config='c', data=stamp)
    b = dict(config='c', data=dict(stamp, settings=dict(num_train=2,
                                                        num_val=9)))
    c = dict(config='c', data=dict(stamp, settings=dict(num_train=3,
                                                        num_val=1)))
    assert study_runs.training_settings(a) == study_runs.training_settings(b)
    assert study_runs.training_settings(a) != study_runs.training_settings(c)


def test_teacher_can_start_from_the_plain_student(tmp_path):
    """``init_from='student'`` (M2SKD's teacher protocol): the teacher's
    ``load_from`` is the final checkpoint of the plain student of its seed,
    that student is trained even when the seeds leave it out, and phase 1
    queues the teacher behind it."""
    import threading

    from distill3d.benchmark.study import _after_its_student
    spec = _spec(tmp_path / 'spec.py', tmp_path, **{
        "schedule=dict(max_epochs=1, val_interval=1)":
        "schedule=dict(max_epochs=1, val_interval=1), init_from='student'"
    })
    study = load_study(spec, seeds=[1, 2], root=REPO)
    student, = rows_by_role(study, 'student')
    assert student['seeds'] == [0, 1, 2]  # the teacher's seed added
    runs = plan_runs(study, str(tmp_path / 'w'), 'data', 't.pth')
    teacher, = runs['teacher']
    init = runs['student'][0]
    assert init.seed == 0
    assert teacher.options['load_from'] == osp.join(init.work_dir,
                                                    'epoch_1.pth')
    assert 'load_from' not in init.options
    # the run's stamp follows the initial checkpoint's identity
    before = teacher.settings()
    assert 'init' not in before
    os.makedirs(init.work_dir)
    with open(teacher.options['load_from'], 'wb') as f:
        f.write(b'x')
    assert teacher.settings()['init']['size'] == 1

    order, lock = [], threading.Lock()

    def task(run, fail=None):
        def go():
            if run.seed == 0 and run.row == 'student':
                time.sleep(0.2)  # the other workers finish first
                if fail:
                    raise RuntimeError(fail)
            with lock:
                order.append((run.row, run.seed))
        return go

    tasks = _after_its_student(runs['student'], teacher, task)
    assert len(tasks) == 3
    run_parallel(tasks, 2)
    assert order.index(('teacher', 0)) == order.index(('student', 0)) + 1
    assert set(order) == {('student', 0), ('student', 1), ('student', 2),
                          ('teacher', 0)}
    # a student whose training fails stops its teacher
    order.clear()
    tasks = _after_its_student(
        runs['student'], teacher,
        lambda run: task(run, fail='student 0 failed'))
    with pytest.raises(RuntimeError, match='student 0 failed'):
        run_parallel(tasks, 2)
    assert ('teacher', 0) not in order

    bad = _spec(tmp_path / 'bad.py', tmp_path, **{
        "config='{distill}'".format(distill=DISTILL):
        "config='{distill}', init_from='student'".format(distill=DISTILL)
    })
    with pytest.raises(StudySpecError, match='init_from'):
        load_study(bad, root=REPO)
    bad = _spec(tmp_path / 'bad2.py', tmp_path, **{
        "schedule=dict(max_epochs=1, val_interval=1)":
        "schedule=dict(max_epochs=1, val_interval=1), own_teacher=True"})
    with pytest.raises(StudySpecError, match='own_teacher'):
        load_study(bad, root=REPO)


@pytest.mark.parametrize(
    'spec', sorted(
        osp.relpath(p, REPO) for pattern in ('studies/*.py',
                                             'projects/*/studies/*.py')
        for p in glob.glob(osp.join(REPO, pattern))))
def test_shipped_specs_load(spec):
    """Every shipped study spec names existing configs, one plain student
    and (where set) a reference that is one of its method rows."""
    study = load_study(osp.join(REPO, spec), None, root=REPO)
    assert len(rows_by_role(study, 'student')) == 1
    if study.get('reference'):
        assert study.reference in [r['name'] for r in study.rows]
