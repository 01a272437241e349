# Copyright (c) distill3d contributors. All rights reserved.
"""Benchmark report: Markdown table, JSON and a bar chart."""
import json
from typing import Dict, List, Optional

SCHEMA_VERSION = 1


def _fmt(value: Optional[float], digits: int = 1) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def metric_columns(rows: List[dict]) -> List[str]:
    """Metric names of the table, in the first row's order."""
    cols: List[str] = []
    for row in rows:
        for key in row['metrics']:
            if key not in cols:
                cols.append(key)
    return cols


def markdown_table(result: dict) -> str:
    """The benchmark result as a Markdown document (table plus notes)."""
    rows = result['models']
    cols = metric_columns(rows)
    head = ['model', 'params (M)', 'GMACs', 'CPU ms/frame'] + cols
    lines = [
        '| ' + ' | '.join(head) + ' |',
        '| ' + ' | '.join(['---'] + ['---:'] * (len(head) - 1)) + ' |'
    ]
    for row in rows:
        cells = [
            row['name'],
            f'{row["params"] / 1e6:.2f}',
            _fmt(row['gmacs'], 2),
            _fmt(row['latency']['median_ms'], 0)
        ] + [_fmt(row['metrics'].get(c)) for c in cols]
        lines.append('| ' + ' | '.join(cells) + ' |')
    out = [f'# {result["title"]}', '', '\n'.join(lines), '']
    unit = ('AP40 at moderate difficulty, KittiMetric (strict IoU: Car 0.7, '
            'Pedestrian / Cyclist 0.5), in percent' if result['task'] == 'det'
            else 'SegMetric IoU / accuracy in percent')
    out += [
        f'Metrics: {unit}. GMACs: dense and linear layers of one predict '
        'step (sparse convolutions not counted). Latency: median of '
        f'{rows[0]["latency"]["frames"]} single-frame predict steps '
        f'(batch 1) on {result["device"]}, {result["threads"]} threads, '
        'data loading excluded.', ''
    ]
    cost = result.get('train_cost')
    if cost:
        out += [
            f'Training step (`tools/benchmark_distill.py`, {cost["steps"]} '
            f'steps, batch {cost["batch_size"]}): student alone '
            f'{cost["student_train_s"]:.3f} s, teacher inference '
            f'{cost["teacher_infer_s"]:.3f} s, distillation step '
            f'{cost["distill_s"]:.3f} s; overhead ratio distill / (student '
            f'+ teacher) = {cost["ratio"]:.3f}, distill / student = '
            f'{cost["ratio_vs_student"]:.3f}; peak memory ratio distill / '
            f'student = {_fmt(cost["peak_mem_ratio"], 3)}.', ''
        ]
    for note in result.get('notes', []):
        out += [note, '']
    out += ['Commands:', '', '```']
    out += result.get('commands', [])
    out += ['```', '']
    return '\n'.join(out)


def write_json(result: dict, path: str) -> None:
    """Write the result (schema :data:`SCHEMA_VERSION`) as JSON."""
    with open(path, 'w') as f:
        json.dump(result, f, indent=2)
        f.write('\n')


def bar_chart(result: dict, keys: List[str], path: str,
              size_px: tuple = (900, 500)) -> None:
    """Grouped bars of ``keys`` (headline metrics) per model."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    rows = result['models']
    dpi = 100
    fig, ax = plt.subplots(
        figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi)
    width = 0.8 / max(len(rows), 1)
    x = np.arange(len(keys))
    for i, row in enumerate(rows):
        vals = [row['metrics'].get(k, 0.0) for k in keys]
        bars = ax.bar(x + (i - (len(rows) - 1) / 2) * width, vals, width,
                      label=row['name'])
        for bar, val in zip(bars, vals):
            ax.annotate(f'{val:.1f}', (bar.get_x() + bar.get_width() / 2,
                                       bar.get_height()),
                        ha='center', va='bottom', fontsize=8)
    top = max([row['metrics'].get(k, 0.0) for row in rows for k in keys] +
              [1.0])
    ax.set_ylim(0, min(100.0, top * 1.15) if top < 87 else 100.0)
    ax.set_xticks(x)
    ax.set_xticklabels(keys)
    ax.set_ylabel('percent')
    ax.set_title(result['title'], fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def summarize_cost(bench: Dict) -> dict:
    """Ratios from ``tools/benchmark_distill.py``'s JSON summary."""
    med = {p: v['median'] for p, v in bench['times_s'].items()}
    peak = bench.get('peak_mem_mib') or {}
    s_peak, d_peak = peak.get('student_train'), peak.get('distill')
    return dict(
        steps=bench['steps'],
        batch_size=bench['batch_size'],
        student_train_s=med['student_train'],
        teacher_infer_s=med['teacher_infer'],
        distill_s=med['distill'],
        ratio=bench['ratio'],
        ratio_vs_student=med['distill'] / med['student_train'],
        peak_mem_mib=peak,
        peak_mem_ratio=(d_peak / s_peak if s_peak and d_peak else None),
        memory_method=bench.get('memory_method'))


# key -> type of every benchmark result (results.json)
RESULT_KEYS = dict(
    schema_version=int,
    title=str,
    task=str,
    device=str,
    threads=int,
    models=list,
    headline=list,
    files=dict,
    commands=list,
    notes=list)
MODEL_KEYS = dict(
    name=str,
    config=str,
    checkpoint=str,
    params=int,
    gmacs=float,
    latency=dict,
    metrics=dict,
    raw_metrics=dict)
COST_KEYS = ('steps', 'batch_size', 'student_train_s', 'teacher_infer_s',
             'distill_s', 'ratio', 'ratio_vs_student', 'peak_mem_ratio')


def validate_result(result: dict) -> None:
    """Check a benchmark result against the schema; raise ValueError.

    The schema: :data:`RESULT_KEYS` at the top level, :data:`MODEL_KEYS`
    per model row, every headline metric in every row (a number),
    ``latency`` with ``median_ms``, and ``train_cost`` either None or a
    dict with :data:`COST_KEYS`.
    """
    def check(obj: dict, keys: dict, where: str) -> None:
        for key, typ in keys.items():
            if key not in obj:
                raise ValueError(f'{where}: missing {key!r}')
            if typ is float and isinstance(obj[key], int):
                continue
            if not isinstance(obj[key], typ):
                raise ValueError(f'{where}.{key}: expected {typ.__name__}, '
                                 f'got {type(obj[key]).__name__}')

    check(result, RESULT_KEYS, 'result')
    if result['schema_version'] != SCHEMA_VERSION:
        raise ValueError(f'schema_version {result["schema_version"]} != '
                         f'{SCHEMA_VERSION}')
    if result['task'] not in ('det', 'seg'):
        raise ValueError(f'unknown task {result["task"]!r}')
    if not result['models']:
        raise ValueError('no model rows')
    for i, row in enumerate(result['models']):
        check(row, MODEL_KEYS, f'models[{i}]')
        if not isinstance(row['latency'].get('median_ms'), (int, float)):
            raise ValueError(f'models[{i}].latency has no median_ms')
        for key in result['headline']:
            if not isinstance(row['metrics'].get(key), (int, float)):
                raise ValueError(f'models[{i}].metrics lacks {key!r}')
    cost = result.get('train_cost')
    if cost is not None:
        missing = [k for k in COST_KEYS if k not in cost]
        if missing:
            raise ValueError(f'train_cost lacks {missing}')
