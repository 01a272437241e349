# Copyright (c) distill3d contributors. All rights reserved.
"""The study spec: what a study trains, on which data, how long, how often.

A spec is a small mmengine config (Python file)::

    task = 'det'                      # 'det' | 'seg' | 'cls'
    metric = 'BEV mAP'                # headline: gate and verdicts
    metrics = ['BEV mAP', '3D mAP']   # reported and paired (optional)
    seeds = [0, 1, 2]                 # training seeds of the student rows
    gate_margin = 3.0                 # teacher - plain student, points
    data = dict(type='kitti', root='data/study_kitti', seed=0,
                settings=dict(num_train=800, num_val=500))
    schedule = dict(max_epochs=3)     # every student / method row
    cfg_options = dict(...)           # --cfg-options for every run
    bootstrap = dict(num_samples=200, seed=0)
    jobs = 2                          # training processes at once
    notes = ['...']                   # paragraphs for study.md (optional)
    rows = [
        dict(name='student', role='student', config='path/student.py'),
        dict(name='+ KD', role='method', config='path/kd.py'),
        dict(name='teacher', role='teacher', config='path/teacher.py',
             schedule=dict(max_epochs=8, val_interval=1),
             init_from='student'),   # optional, see below
    ]
    row_schedules = {'teacher': dict(max_epochs=12)}  # optional
    reference = '+ KD'                # optional, see below

``row_schedules`` (row name -> schedule keys) overrides the schedule of
named rows last; a spec that inherits another (``_base_``) uses it to
change one row's schedule without restating ``rows`` (mmengine replaces a
list as a whole).

``reference`` names a method row (e.g. the positive control, logit KD)
that every other method row is also compared with, seed by seed, as with
the plain student ("is the complex method at least as good as the simple
one?"); ``--rows`` keeps it like the plain student and the teacher.

``init_from='student'`` on the teacher row starts the teacher from the
final checkpoint of the plain student of the teacher's seed (its
``load_from``; e.g. M2SKD's multi-scan teacher, fine-tuned from the
single-scan baseline): the study trains that student first, and adds
the teacher's seed to the plain student's seeds when ``--seeds`` leaves
it out (so the plain student's mean and the gate then include it).

``own_teacher=True`` on a method row leaves out ``teacher_ckpt``: the
method trains its teacher itself (M2SKD's shared-weight mode); the gate
still decides whether its verdict is given.

``data.type`` is a synthetic generator ('kitti', 'semantickitti',
'modelnet40', 'scanobjectnn'; ``settings`` are its config fields) or
'existing' for a prepared real data set at ``root``. Paths are relative to
the repository root (or absolute). ``method`` rows are distillation
configs; the study gives them the teacher row's checkpoint.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config

from ..evaluation.summary import TASKS, headline_keys

ROLES = ('student', 'teacher', 'method')
DATA_TYPES = ('kitti', 'semantickitti', 'modelnet40', 'scanobjectnn',
              'existing')


class StudySpecError(ValueError):
    """A study spec that cannot be run; the message names the key."""


def _require(cfg: Config, key: str, path: str):
    if key not in cfg:
        raise StudySpecError(f'{path}: study spec has no {key!r}')
    return cfg[key]


def load_study(path: str,
               seeds: Optional[Sequence[int]] = None,
               root: str = '.',
               only_rows: Optional[Sequence[str]] = None) -> Config:
    """Read and check a study spec; fill in the defaults.

    Args:
        path (str): The spec file.
        seeds (Sequence[int], optional): Replace the spec's seeds.
        root (str): Directory relative config / data paths start from.
        only_rows (Sequence[str], optional): Keep these method rows only
            (the plain student and the teacher are always kept).

    Returns:
        Config: The spec with ``metrics``, ``gate_margin``, ``bootstrap``,
        ``jobs``, ``cfg_options``, ``teacher_seed`` and, per row,
        ``schedule``, ``seeds`` and ``cfg_options`` filled in.

    Raises:
        StudySpecError: Naming the offending key.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'study spec {path} does not exist')
    cfg = Config.fromfile(path)
    task = _require(cfg, 'task', path)
    if task not in TASKS:
        raise StudySpecError(f'{path}: task must be one of {TASKS}, got '
                             f'{task!r}')
    cfg.metric = cfg.get('metric', headline_keys(task)[0])
    metrics = list(cfg.get('metrics', headline_keys(task)))
    if cfg.metric not in metrics:
        metrics.insert(0, cfg.metric)
    cfg.metrics = metrics
    spec_seeds = [int(s) for s in _require(cfg, 'seeds', path)]
    cfg.seeds = [int(s) for s in seeds] if seeds is not None else spec_seeds
    if not cfg.seeds or not spec_seeds:
        raise StudySpecError(f'{path}: seeds is empty')
    # the one teacher of the study keeps the spec's seed whatever seeds a
    # command runs (``--seeds 1 2`` adds student seeds; it must not retrain
    # the teacher with seed 1)
    cfg.teacher_seed = int(cfg.get('teacher_seed', spec_seeds[0]))
    cfg.gate_margin = float(cfg.get('gate_margin', 3.0))
    cfg.bootstrap = {
        **dict(num_samples=200, seed=0),
        **dict(cfg.get('bootstrap', {}))
    }
    cfg.jobs = int(cfg.get('jobs', 1))
    if cfg.jobs not in (1, 2):
        raise StudySpecError(f'{path}: jobs must be 1 or 2 (training '
                             f'processes at once), got {cfg.jobs}')
    cfg.cfg_options = dict(cfg.get('cfg_options', {}))
    schedule = dict(_require(cfg, 'schedule', path))
    if 'max_epochs' not in schedule:
        raise StudySpecError(f'{path}: schedule needs max_epochs')
    data = dict(_require(cfg, 'data', path))
    if data.get('type') not in DATA_TYPES:
        raise StudySpecError(f'{path}: data.type must be one of '
                             f'{DATA_TYPES}, got {data.get("type")!r}')
    if 'root' not in data:
        raise StudySpecError(f'{path}: data needs a root')
    data.setdefault('seed', 0)
    data.setdefault('settings', {})
    cfg.data = data
    cfg.rows = [_check_row(r, i, cfg, schedule, root, path)
                for i, r in enumerate(_require(cfg, 'rows', path))]
    overrides = dict(cfg.get('row_schedules', {}))
    unknown = set(overrides) - {r['name'] for r in cfg.rows}
    if unknown:
        raise StudySpecError(f'{path}: row_schedules names no row '
                             f'{sorted(unknown)}; rows: '
                             f'{[r["name"] for r in cfg.rows]}')
    for row in cfg.rows:
        row['schedule'].update(overrides.get(row['name'], {}))
    if only_rows is not None:
        unknown = set(only_rows) - {r['name'] for r in cfg.rows}
        if unknown:
            raise StudySpecError(f'{path}: no rows named {sorted(unknown)}; '
                                 f'rows: {[r["name"] for r in cfg.rows]}')
        keep = set(only_rows) | {cfg.get('reference')}
        cfg.rows = [r for r in cfg.rows
                    if r['role'] != 'method' or r['name'] in keep]
    names = [r['name'] for r in cfg.rows]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise StudySpecError(f'{path}: row names must be unique, repeated: '
                             f'{dup}')
    reference = cfg.get('reference')
    if reference is not None and reference not in [
            r['name'] for r in cfg.rows if r['role'] == 'method']:
        raise StudySpecError(
            f'{path}: reference must name a method row, got {reference!r}; '
            'method rows: '
            f"{[r['name'] for r in cfg.rows if r['role'] == 'method']}")
    roles = [r['role'] for r in cfg.rows]
    if roles.count('student') != 1:
        raise StudySpecError(f'{path}: rows need exactly one role='
                             f"'student' (the plain student), got "
                             f"{roles.count('student')}")
    if roles.count('teacher') > 1:
        raise StudySpecError(f'{path}: at most one teacher row per study')
    for row in cfg.rows:
        if row.get('init_from') == 'student':
            # the teacher starts from this plain student: always train it
            plain = next(r for r in cfg.rows if r['role'] == 'student')
            if row['seeds'][0] not in plain['seeds']:
                plain['seeds'] = [row['seeds'][0]] + plain['seeds']
    if 'method' in roles and 'teacher' not in roles:
        raise StudySpecError(f"{path}: method rows need a role='teacher' "
                             'row (its checkpoint is their teacher_ckpt)')
    return cfg


def _check_row(row: dict, index: int, cfg: Config, schedule: dict,
               root: str, path: str) -> dict:
    row = dict(row)
    for key in ('name', 'role', 'config'):
        if key not in row:
            raise StudySpecError(f'{path}: rows[{index}] has no {key!r}')
    if row['role'] not in ROLES:
        raise StudySpecError(f'{path}: rows[{index}].role must be one of '
                             f'{ROLES}, got {row["role"]!r}')
    config = row['config']
    if not osp.isabs(config):
        config = osp.join(root, config)
    if not osp.isfile(config):
        raise StudySpecError(f'{path}: rows[{index}].config {row["config"]} '
                             'does not exist')
    row['schedule'] = dict(schedule, **row.get('schedule', {}))
    row['cfg_options'] = dict(row.get('cfg_options', {}))
    if row.get('own_teacher') and row['role'] != 'method':
        raise StudySpecError(f'{path}: rows[{index}].own_teacher is for '
                             f'method rows, not a {row["role"]} row')
    init_from = row.get('init_from')
    if init_from is not None and (row['role'] != 'teacher'
                                  or init_from != 'student'):
        raise StudySpecError(
            f"{path}: rows[{index}].init_from: only the teacher row can "
            f"have one, and only 'student' (the plain student of its seed)"
            f', got {init_from!r} on a {row["role"]} row')
    if row['role'] == 'teacher':
        row['seeds'] = [int(row.get('seed', cfg.teacher_seed))]
    else:
        row['seeds'] = list(cfg.seeds)
    return row


def rows_by_role(study: Config, role: str) -> List[dict]:
    """The rows of ``study`` with role ``role``, in spec order."""
    return [r for r in study.rows if r['role'] == role]


def slug(name: str) -> str:
    """A file-system name for a row name ('+ logit KD' -> 'logit-kd')."""
    out = ''.join(c.lower() if c.isalnum() else '-' for c in name)
    while '--' in out:
        out = out.replace('--', '-')
    return out.strip('-') or 'row'


def spec_summary(study: Config) -> Dict[str, object]:
    """The settings a report states (data, schedules, seeds, margin)."""
    return dict(
        task=study.task,
        metric=study.metric,
        metrics=list(study.metrics),
        seeds=list(study.seeds),
        gate_margin=study.gate_margin,
        reference=study.get('reference'),
        data=dict(study.data),
        schedule={r['name']: dict(r['schedule'])
                  for r in study.rows},
        bootstrap=dict(study.bootstrap),
        cfg_options=dict(study.cfg_options),
        notes=list(study.get('notes', [])))
