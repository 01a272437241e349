# Copyright (c) distill3d contributors. All rights reserved.
"""Study runner: does distillation make the student better, and by how
much, with intervals that could have come out the other way.

:func:`run_study` reads a spec (:mod:`.study_spec`), prepares the data,
trains what is missing and evaluates every run with the task's mmdet3d
metric through ``Runner.test()`` plus a bootstrap over validation frames
(:mod:`.study_runs`), in this order:

1. the teacher (trained as long as the spec says, validated on the way:
   its curve goes into the report) and the plain student of every seed;
2. the **teacher gate**: teacher minus mean plain student must reach
   ``gate_margin`` points of the headline metric, or the study stops and
   refuses a verdict (``ignore_gate=True`` trains the method rows anyway,
   the verdicts stay 'refused');
3. every method row with every seed, distilled from that teacher.

Then :func:`collect` computes the statistics (:mod:`.stats`) and
:func:`~.study_report.write_report` writes ``study.json``, ``study.md``
and ``study.png``. Every evaluated run is also recorded in the ledger
next to the report (:mod:`.study_ledger`), from which a later session,
whose work dir is gone, goes on without retraining it.
"""
import json
import os.path as osp
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config

from .stats import gate, paired, summarize
from .study_runs import (EVAL_STAMP, REPO, RUN_STAMP, Run, checkpoint_id,
                         config_hash,
                         evaluate, expected_data_stamp, log, prepare_data,
                         read_json, run_parallel, schedule_options,
                         teacher_curve, train, training_settings)
from .study_ledger import LEDGER, StudyLedger, run_key
from .study_spec import load_study, rows_by_role, slug, spec_summary


def plan_runs(study: Config, work_dir: str, data_root: str,
              teacher_ckpt: Optional[str] = None) -> Dict[str, List[Run]]:
    """The runs of every row, keyed by row name."""
    runs: Dict[str, List[Run]] = {}
    hashes: Dict[str, str] = {}
    student = rows_by_role(study, 'student')[0]
    for row in study.rows:
        sched = row['schedule']
        row_runs = []
        if row['config'] not in hashes:
            hashes[row['config']] = config_hash(row['config'])
        base = schedule_options(row['config'], sched['max_epochs'],
                                sched.get('val_interval'))
        for seed in row['seeds']:
            options = dict(base)
            options.update(study.cfg_options)
            options.update(row['cfg_options'])
            options['randomness.seed'] = seed
            if row['role'] == 'method' and not row.get('own_teacher'):
                options['teacher_ckpt'] = teacher_ckpt or '<teacher>'
            if row.get('init_from') == 'student':
                options['load_from'] = _student_checkpoint(
                    work_dir, student, seed)
            sub = 'teacher' if row['role'] == 'teacher' else \
                osp.join(slug(row['name']), f'seed{seed}')
            row_runs.append(
                Run(row=row['name'], role=row['role'], seed=seed,
                    config=row['config'],
                    work_dir=osp.join(work_dir, 'runs', sub),
                    data_root=data_root, options=options,
                    max_epochs=int(sched['max_epochs']), task=study.task,
                    config_hash=hashes[row['config']],
                    data_settings=expected_data_stamp(study.data)))
        runs[row['name']] = row_runs
    return runs


def plan_with_teacher(study: Config, work_dir: str, data_root: str
                      ) -> Tuple[Dict[str, List[Run]], Optional[Run]]:
    """The runs of every row, the method runs naming the teacher's final
    checkpoint (their settings and ledger keys name it), and the teacher's
    run (None without a teacher row)."""
    teacher_rows = rows_by_role(study, 'teacher')
    if not teacher_rows:
        return plan_runs(study, work_dir, data_root), None
    name = teacher_rows[0]['name']
    ckpt = plan_runs(study, work_dir, data_root)[name][0].final_checkpoint
    runs = plan_runs(study, work_dir, data_root, ckpt)
    return runs, runs[name][0]


def _student_checkpoint(work_dir: str, student: dict, seed: int) -> str:
    """The final checkpoint of the plain student run of ``seed``.

    Args:
        work_dir (str): The study's work dir.
        student (dict): The plain student row (its name and schedule).
        seed (int): The training seed.

    Returns:
        str: ``<work_dir>/runs/<row>/seed<seed>/epoch_<max_epochs>.pth``.
    """
    return osp.join(work_dir, 'runs', slug(student['name']), f'seed{seed}',
                    f'epoch_{int(student["schedule"]["max_epochs"])}.pth')


def _paired_noise(method_eval: dict, base_eval: dict, key: str) -> \
        Optional[float]:
    """Std over the same bootstrap resamples of method - baseline."""
    boots = []
    for result in (method_eval, base_eval):
        # inlined by the ledger, or the evaluation's file in a work dir
        boot = result.get('bootstrap')
        path = result.get('bootstrap_file')
        if boot is None and path and osp.isfile(path):
            with open(path) as f:
                boot = json.load(f)
        if boot is None:
            return None
        boots.append(boot)
    a, b = boots
    same = all(a[k] == b[k]
               for k in ('indices_seed', 'num_frames', 'num_samples'))
    if not same or key not in a['values'] or key not in b['values']:
        return None
    diff = np.asarray(a['values'][key]) - np.asarray(b['values'][key])
    return float(diff.std(ddof=1))


def collect(study: Config, results: Dict[str, Dict[int, dict]],
            curve: List[dict], walls: Dict[str, Dict[int, float]],
            commands: Dict[str, Dict[int, str]]) -> dict:
    """The study's statistics in the ``study.json`` schema.

    Args:
        study (Config): The loaded spec.
        results (dict): row name -> seed -> evaluation result.
        curve (list[dict]): The teacher's validation curve.
        walls (dict): row name -> seed -> training seconds.
        commands (dict): row name -> seed -> training command.

    Returns:
        dict: ``metric``, ``rows``, ``paired``, ``teacher_gap``,
        ``eval_noise`` (the schema of the method issues) plus ``gate``,
        ``vs_teacher``, ``vs_reference`` (each method row minus the
        spec's ``reference`` row, same seeds; empty without one),
        ``teacher_curve``, ``settings``.
    """
    metric = study.metric
    rows_out, noise_all = [], {m: [] for m in study.metrics}
    for row in study.rows:
        evals = results.get(row['name'], {})
        seeds = {str(s): evals[s]['metrics'] for s in sorted(evals)}
        noise = {str(s): evals[s]['noise'] for s in sorted(evals)}
        for per_seed in noise.values():
            for m in study.metrics:
                if m in per_seed:
                    noise_all[m].append(per_seed[m])
        entry = dict(
            name=row['name'],
            role=row['role'],
            config=row['config'],
            seeds=seeds,
            eval_noise=noise,
            checkpoints={str(s): evals[s].get('checkpoint')
                         for s in sorted(evals)},
            train_seconds={str(s): v
                           for s, v in walls.get(row['name'], {}).items()},
            commands={str(s): v
                      for s, v in commands.get(row['name'], {}).items()})
        if seeds:
            summary = {
                m: summarize([v[m] for v in seeds.values()])
                for m in study.metrics if all(m in v for v in seeds.values())
            }
            entry['summary'] = summary
            entry['mean'] = summary[metric]['mean']
            entry['std'] = summary[metric]['std']
        rows_out.append(entry)
    by_name = {r['name']: r for r in rows_out}
    student = by_name[rows_by_role(study, 'student')[0]['name']]
    teachers = rows_by_role(study, 'teacher')
    teacher = by_name[teachers[0]['name']] if teachers else None
    teacher_value = None
    if teacher and teacher['seeds']:
        teacher_value = next(iter(teacher['seeds'].values()))[metric]
    gate_result = gate(teacher_value, student.get('mean'),
                       study.gate_margin) if teacher else dict(
                           passed=False, gap=None, margin=study.gate_margin,
                           reason='no teacher row: no verdict')
    paired_out, vs_teacher, vs_reference = [], [], []
    reference = by_name.get(study.get('reference'))

    def _pair(method: dict, base: dict, m: str) -> dict:
        pair = paired({s: v[m] for s, v in method['seeds'].items()},
                      {s: v[m] for s, v in base['seeds'].items()})
        if not gate_result['passed']:
            pair['verdict'] = 'refused'
        noises = [
            _paired_noise(results[method['name']][int(s)],
                          results[base['name']][int(s)], m)
            for s in pair['seeds']
        ]
        noises = [n for n in noises if n is not None]
        return dict(name=method['name'], metric=m,
                    eval_noise=float(np.mean(noises)) if noises else None,
                    **pair)

    for row in rows_by_role(study, 'method'):
        method = by_name[row['name']]
        if not method['seeds'] or not student['seeds']:
            continue
        for m in study.metrics:
            paired_out.append(_pair(method, student, m))
            if reference is not None and reference is not method and \
                    set(reference['seeds']) & set(method['seeds']):
                vs_reference.append(
                    dict(_pair(method, reference, m),
                         reference=reference['name']))
            if teacher and teacher['seeds']:
                t_val = next(iter(teacher['seeds'].values()))[m]
                vt = paired({s: v[m] for s, v in method['seeds'].items()},
                            {s: t_val for s in method['seeds']})
                vs_teacher.append(dict(name=row['name'], metric=m, **vt))
    return dict(
        metric=metric,
        rows=rows_out,
        paired=paired_out,
        teacher_gap=gate_result['gap'],
        eval_noise={
            m: float(np.median(v)) if v else None
            for m, v in noise_all.items()
        },
        gate=gate_result,
        vs_teacher=vs_teacher,
        vs_reference=vs_reference,
        teacher_curve=curve,
        settings=spec_summary(study))


def _after_its_student(students: List[Run], t_run: Run,
                       task: Callable[[Run], Callable[[], object]]) -> list:
    """Phase-1 tasks when the teacher starts from a plain student.

    That student and then the teacher run as one task, first in the
    queue; the other students follow. Nothing waits on another worker,
    and a student that fails (raises) stops its teacher; in report-only
    mode an unfinished student simply leaves the teacher unreported.

    Args:
        students (list[Run]): The plain student runs.
        t_run (Run): The teacher run (``init_from='student'``).
        task (Callable): Run -> the task that trains and evaluates it.

    Returns:
        list: Tasks for :func:`run_parallel`.
    """
    init = next(r for r in students if r.seed == t_run.seed)

    def init_then_teacher():
        task(init)()
        return task(t_run)()

    return [init_then_teacher] + [task(r) for r in students if r is not init]


def _teacher_needed(ledger: StudyLedger, distilled: List[Run]) -> bool:
    """Whether the teacher's checkpoint is needed: some distillation run
    is not in the ledger."""
    return any(
        ledger.lookup(r.row, r.seed, r.settings()) is None
        for r in distilled)


def teacher_instances(ledger: StudyLedger, t_run: Run, metric: str,
                      student_mean: Optional[float],
                      margin: float) -> List[dict]:
    """Every training of the teacher the ledger holds (the first and the
    reruns a later session made for its checkpoint), each gated.

    Returns:
        list[dict]: ``recorded``, ``metrics`` (headline) and ``gate``.
    """
    entry = ledger.lookup(t_run.row, t_run.seed, t_run.settings())
    if entry is None:
        return []
    out = []
    for inst in [dict(entry, metrics=entry['result']['metrics'])] + \
            entry.get('reruns', []):
        metrics = {m: inst['metrics'][m] for m in ledger.metrics
                   if m in inst['metrics']}
        out.append(dict(recorded=inst['recorded'], metrics=metrics,
                        gate=gate(metrics.get(metric), student_mean,
                                  margin)))
    return out


def _done_here(run: Run) -> bool:
    """Whether the work dir holds the run, trained with its settings."""
    stamp = read_json(osp.join(run.work_dir, RUN_STAMP)) or {}
    return stamp.get('status') == 'done' and \
        osp.isfile(run.final_checkpoint) and \
        training_settings(stamp.get('settings')) == \
        training_settings(run.settings())


def _store(run: Run, result: dict, seconds: float, command: str,
           curve: Optional[list], results: dict, walls: dict,
           commands: dict, curves: Optional[dict]) -> None:
    """Keep the result the report shows for ``run``."""
    results.setdefault(run.row, {})[run.seed] = result
    walls.setdefault(run.row, {})[run.seed] = seconds
    commands.setdefault(run.row, {})[run.seed] = command
    if curves is not None and curve is not None:
        curves[run.row] = curve


def _threads(jobs: int) -> Optional[int]:
    return 1 if jobs > 1 else None


def _train_and_evaluate(run: Run, study: Config, threads: Optional[int],
                        force: bool, report_only: bool, results: dict,
                        walls: dict, commands: dict,
                        ledger: Optional[StudyLedger] = None,
                        upstream: Optional[Callable[[], dict]] = None,
                        needs_checkpoint: bool = False,
                        curves: Optional[dict] = None,
                        actual: Optional[dict] = None) -> Optional[dict]:
    """Train (or reuse) and evaluate one run; store what it gives.

    With ``report_only`` only runs already trained with the same settings
    and evaluated count. A run the ledger holds with the same settings is
    taken from it, neither trained nor evaluated, unless a later step
    needs its checkpoint (``needs_checkpoint``: the teacher and the
    student it starts from, when a distillation run must be trained) or
    ``force``. Every run evaluated here is recorded in the ledger; one the
    ledger held already is recorded as a rerun and the ledger's result
    stays the reported one (:mod:`.study_ledger`).

    Args:
        upstream (Callable, optional): -> name -> the evaluation result of
            a run this one starts from (:meth:`StudyLedger.lookup`),
            called when the run is reached.
        needs_checkpoint (bool): Train it when its checkpoint is missing,
            even if the ledger holds it.
        curves (dict, optional): Gets row name -> validation curve of a
            teacher run.
        actual (dict, optional): Gets row name -> seed -> the result of
            the checkpoint trained or reused here (what a run that starts
            from it starts from; a rerun's, not the ledger's).
    """
    ups = upstream() if upstream is not None else {}
    if ups is None:  # an upstream run is missing (report-only)
        return None
    entry = None
    if ledger is not None and not force:
        entry = ledger.lookup(run.row, run.seed, run.settings())
    if entry is not None and not needs_checkpoint and \
            (report_only or not _done_here(run)):
        # a run done in this work dir is still evaluated from its
        # checkpoint, which later steps (a benchmark) may want
        log(f'{run.label}: from the ledger (recorded {entry["recorded"]})')
        _store(run, dict(entry['result'], recorded=entry['recorded']),
               entry['seconds'], entry['command'], entry.get('curve'),
               results, walls, commands, curves)
        return dict(checkpoint=None, seconds=entry['seconds'],
                    reused=True, command=entry['command'])
    if report_only:
        if not _done_here(run) or \
                not osp.isfile(osp.join(run.work_dir, EVAL_STAMP)):
            return None
        stamp = read_json(osp.join(run.work_dir, RUN_STAMP)) or {}
        trained = dict(checkpoint=run.final_checkpoint,
                       seconds=stamp.get('seconds', 0.),
                       command=run.command())
    else:
        trained = train(run, threads, force)
    result = evaluate(run, trained['checkpoint'], study.bootstrap, threads,
                      force and not report_only)
    curve = None
    if run.role == 'teacher':
        curve = teacher_curve(run.work_dir, study.task,
                              result.get('classes', []), study.metrics)
    if actual is not None:
        actual.setdefault(run.row, {})[run.seed] = result
    if ledger is not None:
        ident = checkpoint_id(trained['checkpoint'])
        recorded = ledger.record(
            run.row, run.seed, run.settings(), result, trained['seconds'],
            trained['command'], ups, curve, rerun=entry is not None,
            checkpoint_id=ident)
        if entry is not None and entry.get('checkpoint_id') != ident:
            # retrained for its checkpoint: the ledger's result (which
            # earlier runs were paired with) stays the reported one
            how = 'an earlier rerun' if trained.get('reused') else \
                'retrained'
            log(f'{run.label}: {how} for its checkpoint; reported: '
                f'the ledger\'s run of {entry["recorded"]}')
            _store(run, dict(recorded['result'],
                             recorded=recorded['recorded']),
                   recorded['seconds'], recorded['command'],
                   recorded.get('curve'), results, walls, commands, curves)
            return trained
    _store(run, result, trained['seconds'], trained['command'], curve,
           results, walls, commands, curves)
    return trained


def run_study(spec: str,
              work_dir: str,
              out_dir: Optional[str] = None,
              seeds: Optional[Sequence[int]] = None,
              jobs: Optional[int] = None,
              force: bool = False,
              ignore_gate: bool = False,
              report_only: bool = False,
              command: Optional[str] = None,
              only_rows: Optional[Sequence[str]] = None) -> dict:
    """Run (or resume) a study and write its report.

    Args:
        spec (str): The study spec.
        work_dir (str): Where runs go (``runs/<row>/seed<s>``,
            ``runs/teacher``).
        out_dir (str, optional): Where ``study.{json,md,png}`` go.
            Defaults to ``work_dir``.
        seeds (Sequence[int], optional): Override the spec's seeds.
        jobs (int, optional): Override the spec's parallel runs (1 or 2).
        force (bool): Retrain and re-evaluate everything.
        ignore_gate (bool): Train the method rows although the teacher
            failed the gate (their verdicts stay 'refused').
        report_only (bool): Train nothing; report the runs that exist.
        command (str, optional): The command line, for the report.
        only_rows (Sequence[str], optional): Run these method rows only
            (plus the plain student and the teacher).

    Returns:
        dict: The ``study.json`` content.
    """
    from .study_report import write_report
    start = time.time()
    study = load_study(spec, seeds, root=REPO, only_rows=only_rows)
    if jobs is not None:
        study.jobs = jobs
    out_dir = out_dir or work_dir
    threads = _threads(study.jobs)
    data_root = prepare_data(study.data, force=force) if not report_only \
        else study.data['root']
    results: Dict[str, Dict[int, dict]] = {}
    walls: Dict[str, Dict[int, float]] = {}
    commands: Dict[str, Dict[int, str]] = {}
    curves: Dict[str, list] = {}
    actual: Dict[str, Dict[int, dict]] = {}
    ledger = StudyLedger(osp.join(out_dir, LEDGER), study.metrics)
    teacher_rows = rows_by_role(study, 'teacher')
    student_row = rows_by_role(study, 'student')[0]
    methods = rows_by_role(study, 'method')
    runs, t_run = plan_with_teacher(study, work_dir, data_root)
    init = None
    if t_run is not None:
        if teacher_rows[0].get('init_from') == 'student':
            init = next(r for r in runs[student_row['name']]
                        if r.seed == t_run.seed)
    distilled = [r for row in methods if not row.get('own_teacher')
                 for r in runs[row['name']]]
    teacher_needed = t_run is not None and not report_only and (
        force or _teacher_needed(ledger, distilled))

    def upstream(run: Run) -> Optional[Callable[[], Optional[dict]]]:
        """The results ``run`` starts from, looked up when it runs."""
        if run is t_run and init is not None:
            src, name = init, 'init'
        elif t_run is not None and any(run is r for r in distilled):
            src, name = t_run, 'teacher'
        else:
            return None

        def get():
            res = actual.get(src.row, {}).get(src.seed) or \
                results.get(src.row, {}).get(src.seed)
            return None if res is None else {name: res}

        return get

    def task(run: Run):
        return lambda: _train_and_evaluate(
            run, study, threads, force, report_only, results, walls,
            commands, ledger, upstream(run),
            teacher_needed and (run is t_run or run is init), curves, actual)

    first = [task(r) for r in runs[student_row['name']]]
    if init is not None:
        first = _after_its_student(runs[student_row['name']], t_run, task)
    elif t_run is not None:
        first.insert(0, task(t_run))
    log(f'phase 1: teacher and plain student ({len(first)} runs, '
        f'{study.jobs} at a time; the teacher '
        f'{"is" if teacher_needed else "is not"} needed as a checkpoint)')
    run_parallel(first, study.jobs)
    curve = curves.get(teacher_rows[0]['name'], []) if teacher_rows else []
    stats = collect(study, results, curve, walls, commands)
    log(f'gate: {stats["gate"]["reason"]}')
    passed = stats['gate']['passed']
    fresh = actual.get(t_run.row, {}).get(t_run.seed) if t_run else None
    if fresh is not None and teacher_rows:
        # the teacher this session distils from, when it is a rerun
        student_mean = next(r for r in stats['rows']
                            if r['role'] == 'student').get('mean')
        now = gate(fresh['metrics'].get(study.metric), student_mean,
                   study.gate_margin)
        if fresh['metrics'] != results[t_run.row][t_run.seed]['metrics']:
            log(f'gate of the retrained teacher: {now["reason"]}')
            passed = passed and now['passed']
    if methods and (passed or ignore_gate):
        # seed by seed, so that an interrupted study has every method on
        # its first seeds
        order = sorted((r for row in methods for r in runs[row['name']]),
                       key=lambda r: study.seeds.index(r.seed))
        second = [task(r) for r in order]
        log(f'phase 2: {len(second)} distillation runs')
        run_parallel(second, study.jobs)
        stats = collect(study, results, curve, walls, commands)
    elif methods:
        log('phase 2 skipped: the teacher did not pass the gate '
            '(--ignore-gate trains the methods anyway); method runs that '
            'exist are reported with verdict "refused"')
        run_parallel([
            lambda r=r: _train_and_evaluate(r, study, threads, False, True,
                                            results, walls, commands,
                                            ledger, upstream(r))
            for row in methods for r in runs[row['name']]
        ], 1)
        stats = collect(study, results, curve, walls, commands)
    if t_run is not None:
        student = next(r for r in stats['rows'] if r['role'] == 'student')
        stats['teacher_instances'] = teacher_instances(
            ledger, t_run, study.metric, student.get('mean'),
            study.gate_margin)
    stats['wall_seconds'] = time.time() - start
    stats['spec'] = osp.relpath(spec, REPO) if osp.isabs(spec) else spec
    stats['command'] = command
    write_report(stats, out_dir)
    log(f'study written to {out_dir} in {stats["wall_seconds"]:.0f} s')
    return stats


def import_report(spec: str, work_dir: str, report: str,
                  out_dir: Optional[str] = None,
                  seeds: Optional[Sequence[int]] = None) -> List[str]:
    """Seed the ledger with the runs of an earlier ``study.json``.

    For a study whose work dir is gone but whose report was committed:
    every row and seed of ``report`` that the ledger lacks is recorded
    with the settings the spec plans for it *now* (so the caller vouches
    that configs and spec did not change since the report was made; the
    entry's ``imported`` says from where), its metrics and noise, and the
    report's teacher and plain student as its upstream results. The
    report kept no bootstrap resamples, so imported runs have no paired
    evaluation noise.

    Args:
        spec (str): The study spec.
        work_dir (str): The work dir the runs are planned in (the method
            runs' settings name the teacher checkpoint's path there).
        report (str): The earlier ``study.json``.
        out_dir (str, optional): Where the ledger is (default: work dir).
        seeds (Sequence[int], optional): As in :func:`run_study`.

    Returns:
        list[str]: The keys recorded.
    """
    study = load_study(spec, seeds, root=REPO)
    with open(report) as f:
        old = json.load(f)
    ledger = StudyLedger(osp.join(out_dir or work_dir, LEDGER), study.metrics)
    have = ledger.entries()
    data_root = study.data['root']
    teacher_rows = rows_by_role(study, 'teacher')
    runs, t_run = plan_with_teacher(study, work_dir, data_root)
    by_name = {r['name']: r for r in old['rows']}

    def metrics_of(name: str, seed: int) -> Optional[dict]:
        row = by_name.get(name, {})
        m = row.get('seeds', {}).get(str(seed))
        return None if m is None else dict(
            metrics=m, noise=row.get('eval_noise', {}).get(str(seed), {}))

    student = rows_by_role(study, 'student')[0]
    t_res = metrics_of(teacher_rows[0]['name'], t_run.seed) \
        if t_run else None
    init_res = metrics_of(student['name'], t_run.seed) \
        if t_run and teacher_rows[0].get('init_from') == 'student' else None
    note = f'{osp.relpath(osp.abspath(report), REPO)} ({old.get("command")})'
    done = []
    for row in study.rows:
        for run in runs[row['name']]:
            res = metrics_of(row['name'], run.seed)
            key = run_key(row['name'], run.seed)
            if res is None or key in have:
                continue
            ups = {}
            if run.role == 'teacher' and init_res is not None:
                ups = dict(init=init_res)
            elif run.role == 'method' and not row.get('own_teacher') and \
                    t_res is not None:
                ups = dict(teacher=t_res)
            ledger.record(
                run.row, run.seed, run.settings(), res,
                by_name[row['name']].get('train_seconds',
                                         {}).get(str(run.seed), 0.),
                by_name[row['name']].get('commands',
                                         {}).get(str(run.seed), ''), ups,
                old.get('teacher_curve') if run.role == 'teacher' else None,
                imported=note)
            done.append(key)
    return done

