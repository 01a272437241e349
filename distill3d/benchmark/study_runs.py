# Copyright (c) distill3d contributors. All rights reserved.
"""The runs of a study: data, training and evaluation, each reusable.

Every step leaves a stamp of the settings that made it next to its output
(``study_data.json`` in the data root, ``study_run.json`` and
``study_eval.json`` in a run's work dir). A later call with the same
settings reuses the output; an interrupted training (stamp ``running``,
checkpoints present) resumes from its last checkpoint. Training and
evaluation run in subprocesses (``tools/train.py``,
``python -m distill3d.benchmark.eval_run``), at most ``jobs`` at a time,
each with ``OMP_NUM_THREADS=1`` when two share the machine.
"""
import dataclasses
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA_STAMP = 'study_data.json'
RUN_STAMP = 'study_run.json'
EVAL_STAMP = 'study_eval.json'

_print_lock = threading.Lock()


def log(msg: str) -> None:
    """Progress line of the study (stdout, flushed)."""
    with _print_lock:
        print(f'[study {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def read_json(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_json(path: str, obj: dict) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def _generator(kind: str):
    """(config class, create function) of a synthetic generator."""
    from ..datasets import synthetic
    from ..datasets.synthetic.modelnet40 import (ModelNet40SynthConfig,
                                                 create_modelnet40_dataset)
    from ..datasets.synthetic.scanobjectnn import (
        ScanObjectNNSynthConfig, create_scanobjectnn_dataset)
    return dict(
        kitti=(synthetic.KittiSynthConfig, synthetic.create_kitti_dataset),
        semantickitti=(synthetic.SemanticKittiSynthConfig,
                       synthetic.create_semantickitti_dataset),
        modelnet40=(ModelNet40SynthConfig, create_modelnet40_dataset),
        scanobjectnn=(ScanObjectNNSynthConfig,
                      create_scanobjectnn_dataset))[kind]


def _build_dataclass(cls, settings: dict):
    """``cls(**settings)`` with nested dataclass fields built from dicts."""
    kwargs = {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in settings.items():
        if key not in fields:
            raise KeyError(f'{cls.__name__} has no field {key!r}; fields: '
                           f'{sorted(fields)}')
        default = fields[key].default_factory \
            if fields[key].default_factory is not dataclasses.MISSING \
            else None
        if isinstance(value, dict) and default is not None and \
                dataclasses.is_dataclass(default()):
            value = _build_dataclass(type(default()), value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)


def prepare_data(data: dict, force: bool = False) -> str:
    """Generate the study's synthetic data unless its root holds it.

    Args:
        data (dict): ``type``, ``root``, ``seed``, ``settings`` (see
            :mod:`distill3d.benchmark.study_spec`).
        force (bool): Regenerate even when the stamp matches.

    Returns:
        str: The data root.
    """
    root = data['root']
    if data['type'] == 'existing':
        if not osp.isdir(root):
            raise FileNotFoundError(f'data.root {root} does not exist')
        return root
    want = expected_data_stamp(data)
    stamp = osp.join(root, DATA_STAMP)
    if not force and read_json(stamp) == want:
        log(f'reusing the {data["type"]} data in {root}')
        return root
    cls, create = _generator(data['type'])
    cfg = _build_dataclass(cls, data['settings'])
    log(f'generating {data["type"]} data in {root} (seed {data["seed"]})')
    start = time.time()
    os.makedirs(root, exist_ok=True)
    create(root, int(data['seed']), cfg)
    write_json(stamp, want)
    log(f'data ready in {time.time() - start:.0f} s')
    return root


def expected_data_stamp(data: dict) -> Optional[dict]:
    """The stamp :func:`prepare_data` leaves for the spec's ``data``
    (None for existing data), known before the data is generated."""
    if data['type'] == 'existing':
        return None
    return dict(type=data['type'], seed=int(data['seed']),
                settings=json.loads(json.dumps(data['settings'])))


def data_stamp(root: str) -> Optional[dict]:
    """The stamp of a prepared data root (None for existing data)."""
    return read_json(osp.join(root, DATA_STAMP))


#: generator settings that change the validation split only: synthetic
#: KITTI frame i is drawn from ``default_rng([seed, 0, i])`` and the
#: training frames come first, so more validation frames leave the
#: training frames (and the GT database) byte for byte the same
VAL_ONLY_SETTINGS = dict(kitti=('num_val', ))


def training_settings(settings: Optional[dict]) -> Optional[dict]:
    """A run's settings without what cannot change its trained weights
    (the validation-only data settings of :data:`VAL_ONLY_SETTINGS`)."""
    if not settings or not settings.get('data'):
        return settings
    out = json.loads(json.dumps(settings))
    data = out['data']
    for key in VAL_ONLY_SETTINGS.get(data.get('type'), ()):
        data.get('settings', {}).pop(key, None)
    return out


# ---------------------------------------------------------------------------
# schedule and options
# ---------------------------------------------------------------------------


def schedule_options(config: str, max_epochs: int,
                     val_interval: Optional[int] = None) -> Dict[str, object]:
    """``--cfg-options`` that train ``config`` for ``max_epochs`` epochs.

    Every epoch-based scheduler that ended at the config's own
    ``max_epochs`` (``end`` and, for cosine, ``T_max``) is stretched or
    shrunk to the new length; iteration-based warm-ups stay. One
    checkpoint per epoch is kept (the last), so an interrupted run can
    resume. Without ``val_interval`` no validation runs during training
    (the study evaluates the final checkpoint itself).
    """
    cfg = Config.fromfile(config)
    old = cfg.train_cfg.get('max_epochs')
    if old is None:
        raise ValueError(f'{config}: train_cfg has no max_epochs; the study '
                         'runner schedules epoch-based training only')
    opts: Dict[str, object] = {'train_cfg.max_epochs': max_epochs}
    if val_interval:
        opts['train_cfg.val_interval'] = val_interval
        opts['train_cfg.val_begin'] = 1
    else:
        opts['train_cfg.val_begin'] = max_epochs + 1
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
        prefix = lambda i: 'param_scheduler'  # noqa: E731
    else:
        prefix = lambda i: f'param_scheduler.{i}'  # noqa: E731
    for i, sch in enumerate(schedulers):
        if not sch.get('by_epoch', True):
            continue
        for key in ('end', 'T_max'):
            if sch.get(key) == old:
                opts[f'{prefix(i)}.{key}'] = max_epochs
    opts['default_hooks.checkpoint.interval'] = 1
    opts['default_hooks.checkpoint.max_keep_ckpts'] = 1
    opts['default_hooks.checkpoint.by_epoch'] = True
    return opts


def format_options(options: Dict[str, object]) -> List[str]:
    """``k=v`` strings for ``--cfg-options`` (lists without spaces)."""
    out = []
    for key, value in options.items():
        if isinstance(value, (list, tuple)):
            value = '[' + ','.join(repr(v) if isinstance(v, str) else str(v)
                                   for v in value) + ']'
        out.append(f'{key}={value}')
    return out


def config_hash(config: str) -> str:
    """Hash of the config as resolved with its bases (16 hex digits)."""
    text = Config.fromfile(config).pretty_text
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------
# one run
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    """One training of one row with one seed.

    Args:
        row (str): Row name.
        role (str): 'student', 'teacher' or 'method'.
        seed (int): Training seed.
        config (str): Training config.
        work_dir (str): Its work dir.
        data_root (str): Data root.
        options (dict): ``--cfg-options`` (schedule, seed, teacher_ckpt).
        max_epochs (int): Length; the final checkpoint is
            ``epoch_<max_epochs>.pth``.
        task (str): 'det', 'seg' or 'cls'.
        config_hash (str): :func:`config_hash` of ``config`` (computed when
            the run is planned: mmengine's config loading is not
            thread-safe).
        data_settings (dict, optional): The data's stamp as the spec
            plans it (:func:`expected_data_stamp`); without it the stamp
            is read from ``data_root``, so a run's settings are known
            before its data is generated (a report from the ledger).
    """
    row: str
    role: str
    seed: int
    config: str
    work_dir: str
    data_root: str
    options: Dict[str, object]
    max_epochs: int
    task: str
    config_hash: str = ''
    data_settings: Optional[dict] = None

    @property
    def label(self) -> str:
        return f'{self.row} (seed {self.seed})'

    @property
    def final_checkpoint(self) -> str:
        return osp.join(self.work_dir, f'epoch_{self.max_epochs}.pth')

    def train_args(self, resume: bool = False) -> List[str]:
        """``tools/train.py`` arguments of this run."""
        args = [
            osp.join('tools', 'train.py'), self.config, '--work-dir',
            self.work_dir, '--data-root', self.data_root
        ]
        if resume:
            args.append('--resume')
        return args + ['--cfg-options'] + format_options(self.options)

    def command(self) -> str:
        """The training command as a report prints it."""
        import shlex
        return 'python ' + ' '.join(shlex.quote(a) for a in self.train_args())

    def settings(self) -> dict:
        """What determines the trained weights (the reuse stamp): config,
        options, data, seed and, for a distillation run, the teacher
        checkpoint's size and time (a retrained teacher retrains it; the
        same for a run's ``load_from``)."""
        out = dict(
            config=self.config,
            config_hash=self.config_hash or config_hash(self.config),
            options={k: v
                     for k, v in self.options.items()},
            data=self.data_settings if self.data_settings is not None
            else data_stamp(self.data_root),
            data_root=self.data_root,
            seed=self.seed)
        if self.role == 'method':
            # distilled students start from the plain student's initial
            # weights of the same seed since distill3d's forked-RNG build;
            # runs trained before it were not paired by init: retrain them
            out['student_init'] = 'paired'
        # a retrained teacher (or initial checkpoint) retrains the run
        for key, name in (('teacher_ckpt', 'teacher'), ('load_from',
                                                        'init')):
            path = self.options.get(key)
            if isinstance(path, str) and osp.isfile(path):
                ident = _file_id(path)
                out[name] = dict(size=ident['size'], mtime=ident['mtime'])
        return out


def _env(threads: Optional[int]) -> dict:
    env = dict(os.environ)
    env['PYTHONUNBUFFERED'] = '1'
    if threads:
        # numba follows OMP_NUM_THREADS in the child (import distill3d:
        # distill3d.utils.numba_threads)
        for key in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
            env[key] = str(threads)
    return env


def _stream(cmd: List[str],
            log_path: str,
            label: str,
            threads: Optional[int],
            keep: Callable[[str], bool],
            on_kept: Optional[Callable[[], None]] = None) -> int:
    """Run ``cmd`` from the repository root, log to ``log_path``, print
    the lines ``keep`` selects with the run's label (and call ``on_kept``
    after each)."""
    with open(log_path, 'a') as logf:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env=_env(threads))
        for line in proc.stdout:
            logf.write(line)
            if keep(line):
                text = line.split(' - INFO - ')[-1].rstrip()
                log(f'[{label}] {text[:140]}')
                if on_kept is not None:
                    on_kept()
        return proc.wait()


def train(run: Run, threads: Optional[int] = None,
          force: bool = False) -> dict:
    """Train ``run`` unless a checkpoint with the same settings exists.

    Settings that only change the validation frames do not count
    (:func:`training_settings`): a study can grow its validation set
    without retraining.

    Returns:
        dict: ``checkpoint``, ``seconds`` (training wall time, summed over
        resumed parts), ``reused`` and ``command``.
    """
    stamp_path = osp.join(run.work_dir, RUN_STAMP)
    settings = run.settings()
    stamp = read_json(stamp_path) or {}
    same = training_settings(stamp.get('settings')) == \
        training_settings(settings)
    ckpt = run.final_checkpoint
    if not force and same and stamp.get('status') == 'done' and \
            osp.isfile(ckpt):
        log(f'{run.label}: reusing {ckpt}')
        return dict(checkpoint=ckpt, seconds=stamp.get('seconds', 0.),
                    reused=True, command=run.command())
    resume = not force and same and stamp.get('status') == 'running' and \
        osp.isfile(osp.join(run.work_dir, 'last_checkpoint'))
    spent = stamp.get('seconds', 0.) if resume else 0.
    os.makedirs(run.work_dir, exist_ok=True)
    if not resume:
        _set_aside(run.work_dir)
    write_json(stamp_path, dict(settings=settings, status='running',
                                 seconds=spent))
    log(f'{run.label}: {"resuming" if resume else "training"} '
        f'({run.max_epochs} epochs, {run.config})')
    start = time.time()

    def progress():
        # the time so far, so that a killed study that resumes the run
        # still counts it
        write_json(stamp_path, dict(settings=settings, status='running',
                                     seconds=spent + time.time() - start))

    code = _stream([sys.executable] + run.train_args(resume),
                   osp.join(run.work_dir, 'study_train.log'), run.label,
                   threads, lambda line: 'Epoch(' in line, progress)
    seconds = spent + time.time() - start
    if code != 0:
        write_json(stamp_path, dict(settings=settings, status='running',
                                     seconds=seconds))
        raise RuntimeError(f'{run.label}: training failed (exit {code}), '
                           f'see {osp.join(run.work_dir, "study_train.log")}')
    if not osp.isfile(ckpt):
        raise RuntimeError(f'{run.label}: {ckpt} was not written')
    write_json(stamp_path, dict(settings=settings, status='done',
                                 seconds=seconds))
    log(f'{run.label}: trained in {seconds:.0f} s')
    return dict(checkpoint=ckpt, seconds=seconds, reused=False,
                command=run.command())


def _set_aside(work_dir: str) -> None:
    """Move a run's checkpoints of other settings to ``superseded/``.

    A run retrained with new settings (or after ``--force``) must not
    resume from them, but they are not deleted: the previous
    ``superseded/`` is replaced, so at most one older set is kept.
    """
    old = glob.glob(osp.join(work_dir, 'epoch_*.pth')) + [
        p for p in (osp.join(work_dir, 'last_checkpoint'),
                    osp.join(work_dir, RUN_STAMP)) if osp.isfile(p)
    ]
    if not any(p.endswith('.pth') for p in old):
        for path in old:
            if path.endswith('last_checkpoint'):
                os.remove(path)
        return
    target = osp.join(work_dir, 'superseded')
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    for path in old:
        shutil.move(path, osp.join(target, osp.basename(path)))
    log(f'{work_dir}: checkpoints of other settings moved to {target}')


def _file_id(path: str) -> dict:
    st = os.stat(path)
    return dict(path=path, size=st.st_size, mtime=int(st.st_mtime))


def checkpoint_id(path: str) -> dict:
    """Size and mtime of a checkpoint: which training made it."""
    ident = _file_id(path)
    return dict(size=ident['size'], mtime=ident['mtime'])


#: option prefixes that shape the evaluation, not only the training
EVAL_OPTION_PREFIXES = ('test_dataloader.', 'test_evaluator.')


def eval_options(options: Dict[str, object]) -> Dict[str, object]:
    """The ``--cfg-options`` of a run that its evaluation needs too (the
    test loader's and evaluator's, e.g. a ScanObjectNN variant)."""
    return {k: v for k, v in options.items()
            if k.startswith(EVAL_OPTION_PREFIXES)}


def evaluate(run: Run, checkpoint: str, bootstrap: dict,
             threads: Optional[int] = None, force: bool = False) -> dict:
    """Evaluate ``checkpoint`` unless the same evaluation exists.

    Returns:
        dict: :func:`distill3d.benchmark.eval_run.evaluate_checkpoint`'s
        result (metrics, bootstrap noise, ...).
    """
    out_dir = osp.join(run.work_dir, 'study_eval')
    out_json = osp.join(out_dir, 'eval.json')
    stamp_path = osp.join(run.work_dir, EVAL_STAMP)
    options = eval_options(run.options)
    settings = dict(
        checkpoint=_file_id(checkpoint),
        data=data_stamp(run.data_root),
        bootstrap=dict(bootstrap),
        task=run.task)
    if options:
        settings['options'] = options
    if not force and (read_json(stamp_path) or {}).get('settings') == \
            settings and osp.isfile(out_json):
        return read_json(out_json)
    os.makedirs(out_dir, exist_ok=True)
    log(f'{run.label}: evaluating {checkpoint}')
    cmd = [
        sys.executable, '-m', 'distill3d.benchmark.eval_run', run.config,
        checkpoint, '--task', run.task, '--out', out_json, '--data-root',
        run.data_root, '--num-samples',
        str(bootstrap['num_samples']), '--seed',
        str(bootstrap['seed'])
    ]
    if options:
        cmd += ['--cfg-options'] + format_options(options)
    code = _stream(cmd, osp.join(out_dir, 'eval.log'), run.label, threads,
                   lambda line: False)
    if code != 0:
        raise RuntimeError(f'{run.label}: evaluation failed (exit {code}), '
                           f'see {osp.join(out_dir, "eval.log")}')
    result = read_json(out_json)
    write_json(stamp_path, dict(settings=settings))
    log(f'{run.label}: ' + ', '.join(
        f'{k} {result["metrics"][k]:.2f} (±{v:.2f})'
        for k, v in result['noise'].items()))
    return result


def run_parallel(tasks: Sequence[Callable[[], object]],
                 jobs: int) -> List[object]:
    """Run ``tasks`` with at most ``jobs`` at once; results in order.

    The first failure is raised after the running tasks end; tasks not
    yet started are cancelled.
    """
    if jobs <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(task) for task in tasks]
        results, error = [], None
        for fut in futures:
            try:
                results.append(fut.result())
            except Exception as exc:  # noqa: BLE001  (re-raised below)
                error = error or exc
                for other in futures:
                    other.cancel()
                results.append(None)
    if error is not None:
        raise error
    return results


def teacher_curve(work_dir: str, task: str, classes: Sequence[str],
                  metrics: Sequence[str]) -> List[dict]:
    """The validation curve a training logged (``vis_data/scalars.json``).

    Returns:
        list[dict]: ``{'epoch': e, <metric>: value, ...}`` per validation,
        in epoch order (a resumed training's parts merged).
    """
    from ..evaluation.summary import summarize_metrics
    points: Dict[int, dict] = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if 'lr' in entry or 'loss' in entry:
                    continue
                raw = {k: v for k, v in entry.items() if k != 'step'}
                try:
                    summary = summarize_metrics(task, raw, classes)
                except (KeyError, ValueError):
                    continue
                step = int(entry['step'])
                points[step] = dict(
                    epoch=step, **{m: summary[m]
                                   for m in metrics if m in summary})
    return [points[k] for k in sorted(points)]
