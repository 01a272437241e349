# Copyright (c) distill3d contributors. All rights reserved.
"""Write a study: ``study.json``, ``study.md`` and ``study.png``."""
import json
import os
import os.path as osp
from typing import List, Optional

STUDY_FILES = dict(json='study.json', markdown='study.md', plot='study.png')


def _f(value: Optional[float], digits: int = 1, sign: bool = False) -> str:
    if value is None:
        return '-'
    return f'{value:+.{digits}f}' if sign else f'{value:.{digits}f}'


def _ci(ci: List[float], sign: bool = False, n: int = 2) -> str:
    if n < 2:  # no spread to estimate: a zero-width interval says nothing
        return 'n/a (1 seed)'
    return f'[{_f(ci[0], 1, sign)}, {_f(ci[1], 1, sign)}]'


#: a method against the reference row: not "helps", but "better"
REFERENCE_VERDICTS = dict(helps='better', hurts='worse')


def _paired_table(title: str, entries: List[dict],
                  verdict_names: Optional[dict] = None) -> List[str]:
    """Markdown lines of a paired-difference table."""
    verdict_names = verdict_names or {}
    lines = [
        '', f'## {title}', '',
        '| method | metric | per-seed differences | mean | 95% CI | '
        'eval noise of the difference | verdict |',
        '| --- | --- | --- | ---: | --- | ---: | --- |'
    ]
    for p in entries:
        diffs = ' / '.join(_f(d, 1, True) for d in p['diffs'])
        verdict = verdict_names.get(p['verdict'], p['verdict'])
        lines.append(
            f'| {p["name"]} | {p["metric"]} | {diffs} | '
            f'{_f(p["mean"], 2, True)} | '
            f'{_ci(p["ci95"], True, len(p["diffs"]))} | '
            f'±{_f(p.get("eval_noise"), 2)} | **{verdict}** |')
    return lines


def markdown(study: dict) -> str:
    """The study as a Markdown page (tables, gate, curve, commands)."""
    s = study['settings']
    metrics = s['metrics']
    lines = [
        f'# Study: {study.get("title") or study.get("spec", "")}', '',
        f'Headline metric: **{study["metric"]}** ({s["task"]}); seeds '
        f'{s["seeds"]}; data: {s["data"]["type"]} at `{s["data"]["root"]}` '
        f'(generator seed {s["data"].get("seed")}, settings '
        f'`{json.dumps(s["data"].get("settings", {}))}`).', '',
        f'**Teacher gate** (margin {s["gate_margin"]:.1f} points): '
        f'{study["gate"]["reason"]}.', ''
    ]
    instances = study.get('teacher_instances', [])
    if len(instances) > 1:
        lines += [
            'Teacher trainings (the first, then each retraining a later '
            'session made for its checkpoint; CPU training is not '
            'bit-reproducible): ' + '; '.join(
                f'{_f(t["metrics"].get(study["metric"]), 2)} '
                f'({t["recorded"][:10]}, gate '
                f'{"passed" if t["gate"]["passed"] else "failed"})'
                for t in instances) +
            '. The gate above uses the first; each distilled run records '
            'the teacher it learnt from (`study_runs.json`, `upstream`).',
            '']
    for note in s.get('notes', []):
        lines += [note, '']
    noise = ', '.join(f'{m} ±{_f(v, 2)}'
                      for m, v in study['eval_noise'].items())
    lines += [
        f'Evaluation noise (bootstrap std over validation frames, median '
        f'over runs): {noise}.', '', '## Rows', '',
        '| row | role | seeds | ' + ' | '.join(
            f'{m}: mean ± std (min-max) [95% CI]' for m in metrics) +
        f' | eval noise of {study["metric"]} | train s / run |',
        '|' + ' --- |' * (5 + len(metrics))
    ]
    for row in study['rows']:
        cells = [row['name'], row['role'], str(len(row['seeds']))]
        for m in metrics:
            sm = row.get('summary', {}).get(m)
            if sm is None:
                cells.append('-')
            elif sm['n'] == 1:
                noise_m = next(iter(row['eval_noise'].values())).get(m)
                cells.append(f'{_f(sm["mean"])} (±{_f(noise_m)} eval)')
            else:
                cells.append(f'{_f(sm["mean"])} ± {_f(sm["std"])} '
                             f'({_f(sm["min"])}-{_f(sm["max"])}) '
                             f'{_ci(sm["ci95"])}')
        noises = [n.get(study['metric']) for n in
                  row.get('eval_noise', {}).values()
                  if n.get(study['metric']) is not None]
        cells.append(f'±{_f(sum(noises) / len(noises), 2)}'
                     if noises else '-')
        walls = list(row.get('train_seconds', {}).values())
        cells.append(_f(sum(walls) / len(walls), 0) if walls else '-')
        lines.append('| ' + ' | '.join(cells) + ' |')
    if study['paired']:
        lines += _paired_table(
            'Paired difference to the plain student (same seed)',
            study['paired'])
    if study.get('vs_reference'):
        ref = study['vs_reference'][0]['reference']
        lines += _paired_table(f'Paired difference to {ref} (same seed)',
                               study['vs_reference'], REFERENCE_VERDICTS)
    if study.get('vs_teacher'):
        lines += [
            '', '## Distilled student minus teacher (moonshot: >= 0)', '',
            '| method | metric | mean | 95% CI |', '| --- | --- | ---: | --- |'
        ]
        for p in study['vs_teacher']:
            lines.append(f'| {p["name"]} | {p["metric"]} | '
                         f'{_f(p["mean"], 2, True)} | '
                         f'{_ci(p["ci95"], True, len(p["diffs"]))} |')
    lines += per_class_table(study)
    if study.get('teacher_curve'):
        keys = [k for k in metrics if k in study['teacher_curve'][0]]
        lines += [
            '', '## Teacher validation curve', '',
            '| epoch | ' + ' | '.join(keys) + ' |',
            '|' + ' ---: |' * (1 + len(keys))
        ]
        for pt in study['teacher_curve']:
            lines.append(f'| {pt["epoch"]} | ' +
                         ' | '.join(_f(pt.get(k)) for k in keys) + ' |')
    lines += [
        '', 'Verdicts: "helps" when the 95% t-interval of the paired '
        'differences lies above 0, "hurts" below, else "unclear"; '
        '"refused" when the teacher failed the gate. The eval noise of a '
        'difference is the std of the method-minus-student value over the '
        'same bootstrap resamples of the validation frames (mean over '
        'seeds).', ''
    ]
    if 'wall_seconds' in study:
        train_total = sum(
            sum(r.get('train_seconds', {}).values()) for r in study['rows'])
        lines += [
            f'Training time summed over runs: {train_total / 3600:.2f} h; '
            f'this invocation of the runner: '
            f'{study["wall_seconds"] / 3600:.2f} h wall.', ''
        ]
    lines += ['## Commands', '', '```']
    if study.get('command'):
        lines.append(study['command'])
    for row in study['rows']:
        for seed, cmd in sorted(row.get('commands', {}).items()):
            lines.append(cmd)
    lines += ['```', '']
    return '\n'.join(lines)


#: per-class keys of each task's summary (distill3d.evaluation.summary)
PER_CLASS_PREFIX = dict(det='BEV AP ', seg='IoU ')


def per_class_table(study: dict) -> List[str]:
    """Each row's per-class values, mean over its seeds.

    Args:
        study (dict): The ``study.json`` content.

    Returns:
        list[str]: Markdown lines of the table (segmentation IoU,
        detection BEV AP), empty for other tasks or without results.
    """
    prefix = PER_CLASS_PREFIX.get(study['settings']['task'])
    rows = [r for r in study['rows'] if r.get('seeds')]
    if prefix is None or not rows:
        return []
    keys = [k for k in next(iter(rows[0]['seeds'].values()))
            if k.startswith(prefix)]
    if not keys:
        return []
    lines = [
        '', f'## Per class ({prefix.strip()}, mean over seeds)', '',
        '| row | seeds | ' + ' | '.join(k[len(prefix):] for k in keys) +
        ' |', '|' + ' --- |' * 2 + ' ---: |' * len(keys)
    ]
    for row in rows:
        vals = list(row['seeds'].values())
        cells = [
            _f(sum(v[k] for v in vals) / len(vals))
            if all(k in v for v in vals) else '-' for k in keys
        ]
        lines.append(f'| {row["name"]} | {len(vals)} | ' + ' | '.join(cells)
                     + ' |')
    return lines


def plot(study: dict, path: str) -> None:
    """Three panels: rows (mean, 95% CI, seeds), paired differences with
    their CI, and the teacher's validation curve."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    metric = study['metric']
    curve = study.get('teacher_curve') or []
    ncols = 3 if curve else 2
    fig, axes = plt.subplots(1, ncols, figsize=(5.2 * ncols, 4.2), dpi=90)
    ax = axes[0]
    rows = [r for r in study['rows'] if r.get('summary', {}).get(metric)]
    for i, row in enumerate(rows):
        sm = row['summary'][metric]
        vals = [v[metric] for v in row['seeds'].values()]
        color = {'teacher': '#2ca02c', 'student': '#7f7f7f'}.get(
            row['role'], '#1f77b4')
        if sm['n'] > 1:
            ax.errorbar(i, sm['mean'], yerr=[[sm['mean'] - sm['ci95'][0]],
                                             [sm['ci95'][1] - sm['mean']]],
                        fmt='o', color=color, capsize=4)
        else:
            noise = next(iter(row['eval_noise'].values())).get(metric, 0.)
            ax.errorbar(i, sm['mean'], yerr=1.96 * noise, fmt='s',
                        color=color, capsize=4)
        ax.scatter([i] * len(vals), vals, s=10, color=color, alpha=0.5)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r['name'] for r in rows], rotation=30, ha='right',
                       fontsize=8)
    ax.set_ylabel(metric)
    ax.set_title(f'{metric}: mean, 95% CI over seeds, seeds', fontsize=9)
    ax = axes[1]
    pairs = [p for p in study['paired'] if p['metric'] == metric]
    for i, p in enumerate(pairs):
        color = dict(helps='#2ca02c', hurts='#d62728').get(
            p['verdict'], '#7f7f7f')
        ax.errorbar(i, p['mean'], yerr=[[p['mean'] - p['ci95'][0]],
                                        [p['ci95'][1] - p['mean']]],
                    fmt='o', color=color, capsize=4)
        ax.scatter([i] * len(p['diffs']), p['diffs'], s=10, color=color,
                   alpha=0.5)
    ax.axhline(0, color='k', linewidth=0.8)
    ax.set_xticks(range(len(pairs)))
    ax.set_xticklabels([p['name'] for p in pairs], rotation=30, ha='right',
                       fontsize=8)
    ax.set_ylabel(f'{metric} - plain student (same seed)')
    ax.set_title('paired difference, 95% CI', fontsize=9)
    if curve:
        ax = axes[2]
        ax.plot([p['epoch'] for p in curve], [p.get(metric) for p in curve],
                'o-', color='#2ca02c', label='teacher (val)')
        student = next((r for r in study['rows'] if r['role'] == 'student'
                        and r.get('mean') is not None), None)
        if student is not None:
            ax.axhline(student['mean'], color='#7f7f7f', linestyle='--',
                       label='plain student (mean)')
            ax.axhline(student['mean'] + study['gate']['margin'],
                       color='#d62728', linestyle=':', label='gate')
        ax.set_xlabel('teacher epoch')
        ax.set_ylabel(metric)
        ax.set_title('teacher validation curve', fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(study: dict, out_dir: str) -> dict:
    """Write the three files; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {k: osp.join(out_dir, v) for k, v in STUDY_FILES.items()}
    with open(paths['json'], 'w') as f:
        json.dump(study, f, indent=2)
    with open(paths['markdown'], 'w') as f:
        f.write(markdown(study))
    plot(study, paths['plot'])
    return paths
