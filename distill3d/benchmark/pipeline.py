# Copyright (c) distill3d contributors. All rights reserved.
"""Benchmark trained teacher / student / distilled models in one run."""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmdet3d.registry import DATASETS, MODELS
from ..utils import set_data_root
from .bev import (bev_footprints, draw_bev, frame_batch, pointdistiller_nodes,
                  predict_boxes)
from .evaluate import (ModelSpec, evaluate_model, headline_keys,
                       is_distill_config)
from .study_runs import config_hash
from .report import (SCHEMA_VERSION, bar_chart, markdown_table,
                     summarize_cost, validate_result, write_json)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OUTPUT_FILES = dict(
    markdown='results.md',
    json='results.json',
    bar_chart='map_bar.png',
    bev='bev.png')


def _log(msg: str) -> None:
    # print, not the runner's logger: Runner(log_level='WARNING') silences
    # the current mmengine logger while the models are evaluated
    print(f'[benchmark {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def train_cost(config: str,
               teacher_ckpt: Optional[str],
               out_json: str,
               data_root: Optional[str] = None,
               steps: int = 3,
               warmup: int = 1) -> dict:
    """Run ``tools/benchmark_distill.py`` on a distillation config.

    Returns:
        dict: :func:`~distill3d.benchmark.report.summarize_cost` of its
        JSON summary.
    """
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'benchmark_distill.py'), config, '--steps',
        str(steps), '--warmup',
        str(warmup), '--json', out_json, '--work-dir',
        osp.join(osp.dirname(out_json), 'benchmark_distill')
    ]
    if teacher_ckpt:
        cmd += ['--teacher-ckpt', teacher_ckpt]
    if data_root:
        cmd += ['--data-root', data_root]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out_json) as f:
        return summarize_cost(json.load(f))


def _config(spec: ModelSpec, data_root: Optional[str]) -> Config:
    cfg = Config.fromfile(spec.config)
    if data_root:
        set_data_root(cfg, data_root)
    init_default_scope(cfg.get('default_scope', 'mmdet3d'))
    return cfg


def _load_model(spec: ModelSpec, data_root: Optional[str]):
    """Build a plain mmdet3d model (see :func:`plain_model`) and load its
    checkpoint."""
    from mmengine.runner import load_checkpoint
    model = MODELS.build(_config(spec, data_root).model)
    load_checkpoint(model, spec.checkpoint, map_location='cpu',
                    logger='silent')
    return model.eval()


def most_found_frame(dataset, model: torch.nn.Module, class_name: str = 'Car',
                     candidates: int = 50, score_thr: float = 0.3,
                     match_dist: float = 1.0) -> Tuple[int, int, int]:
    """The validation frame where ``model`` finds the most objects of a
    class.

    An object counts as found when a prediction of its class with score
    >= ``score_thr`` has its BEV centre within ``match_dist`` metres of
    the object's. Ties go to the frame with fewer missed objects.

    Args:
        dataset: The test dataset.
        model (nn.Module): A plain detector.
        class_name (str): Class to count. Defaults to 'Car'.
        candidates (int): Frames looked at (the first ones).
        score_thr (float): Score threshold of the predictions.
        match_dist (float): Centre distance in metres.

    Returns:
        tuple[int, int, int]: frame index, objects found, objects there.
    """
    label = list(dataset.metainfo['classes']).index(class_name)
    best = (-1, 0, 0)
    model.eval()
    for i in range(min(candidates, len(dataset))):
        ann = dataset.get_ann_info(i)
        gt = ann['gt_bboxes_3d'][torch.as_tensor(ann['gt_labels_3d']) ==
                                 label]
        if len(gt) == 0:
            continue
        with torch.no_grad():
            (sample, ) = model.test_step(frame_batch(dataset, i))
        pred = sample.pred_instances_3d
        keep = (pred.labels_3d == label) & (pred.scores_3d >= score_thr)
        centres = pred.bboxes_3d.gravity_center[keep][:, :2].cpu()
        if len(centres):
            dist = torch.cdist(gt.gravity_center[:, :2].float(),
                               centres.float())
            found = int((dist.min(1).values <= match_dist).sum())
        else:
            found = 0
        key = (found, -(len(gt) - found))
        if best[0] < 0 or key > (best[1], -(best[2] - best[1])):
            best = (i, found, len(gt))
    return best if best[0] >= 0 else (0, 0, 0)


def bev_picture(models: List[ModelSpec],
                path: str,
                data_root: Optional[str] = None,
                frame_index: Union[int, str] = 0,
                score_thr: float = 0.3,
                distill_config: Optional[str] = None,
                teacher_ckpt: Optional[str] = None) -> dict:
    """BEV PNG of one validation frame: ground truth and every model's boxes.

    ``models`` are plain mmdet3d models (:func:`plain_model`, e.g. the
    ``plain_config`` / ``plain_checkpoint`` of :func:`evaluate_model`).
    ``frame_index='auto'`` draws the frame where the first model finds the
    most cars (:func:`most_found_frame`).
    With a PointDistiller ``distill_config``, the top-N pillars its loss
    weights on that frame are drawn, coloured by weight.

    Returns:
        dict: Counts drawn (``gt``, per model, ``nodes``).
    """
    cfg = _config(models[0], data_root)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    picked = ''
    if frame_index == 'auto':
        frame_index, found, total = most_found_frame(
            dataset, _load_model(models[0], data_root), score_thr=score_thr)
        picked = (f' (where {models[0].name} finds the most cars: '
                  f'{found} of {total})')
    batch = frame_batch(dataset, frame_index)
    points = batch['inputs']['points'][0].numpy()
    ann = dataset.get_ann_info(frame_index)
    box_sets = {'ground truth': bev_footprints(ann['gt_bboxes_3d'])}
    for spec in models:
        model = _load_model(spec, data_root)
        box_sets[spec.name] = predict_boxes(model, batch, score_thr)
        del model
    nodes = None
    if distill_config:
        nodes = pointdistiller_nodes(distill_config, batch, teacher_ckpt)
    pcr = cfg.model.data_preprocessor.voxel_layer.point_cloud_range \
        if 'voxel_layer' in cfg.model.data_preprocessor else [
            float(points[:, 0].min()),
            float(points[:, 1].min()), 0,
            float(points[:, 0].max()),
            float(points[:, 1].max()), 0
        ]
    sample_idx = batch['data_samples'][0].metainfo.get('sample_idx',
                                                       frame_index)
    title = (f'validation frame {sample_idx}{picked}: predictions with '
             f'score >= {score_thr}')
    if nodes is not None:
        title += f'; top-{len(nodes["weight"])} PointDistiller pillars'
    draw_bev(path, points, box_sets, pcr, nodes, title)
    counts = {k: int(len(v)) for k, v in box_sets.items()}
    counts['nodes'] = 0 if nodes is None else int(len(nodes['weight']))
    counts['frame'] = int(frame_index)
    return counts


def seg_picture(models: List[ModelSpec],
                path: str,
                data_root: Optional[str] = None,
                frame_index: int = 0) -> dict:
    """BEV PNG of one frame's labels: ground truth and each plain model's."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    cfg = _config(models[0], data_root)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    batch = frame_batch(dataset, frame_index)
    points = batch['inputs']['points'][0].numpy()
    panels = {
        'ground truth':
        batch['data_samples'][0].gt_pts_seg.pts_semantic_mask.numpy()
    }
    for spec in models:
        model = _load_model(spec, data_root)
        with torch.no_grad():
            (sample, ) = model.test_step(batch)
        panels[spec.name] = sample.pred_pts_seg.pts_semantic_mask.numpy()
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(4 * n, 4), dpi=100)
    num_classes = len(dataset.metainfo['classes'])
    for ax, (name, labels) in zip(np.atleast_1d(axes), panels.items()):
        ax.scatter(points[:, 0], points[:, 1], s=0.3, c=labels,
                   cmap='tab20', vmin=0, vmax=max(num_classes, 1),
                   linewidths=0)
        ax.set_aspect('equal')
        ax.set_title(name, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return {k: int(len(v)) for k, v in panels.items()}


def row_stamp(spec: ModelSpec, task: str, data_root: Optional[str],
              latency_frames: int) -> dict:
    """What one table row depends on: the model's resolved config, its
    checkpoint file (path, size, modification time), the data and the
    latency setting."""
    stat = os.stat(spec.checkpoint)
    return dict(
        name=spec.name,
        task=task,
        config=osp.abspath(spec.config),
        config_hash=config_hash(spec.config),
        checkpoint=osp.abspath(spec.checkpoint),
        checkpoint_size=stat.st_size,
        checkpoint_mtime_ns=stat.st_mtime_ns,
        data_root=osp.abspath(data_root) if data_root else None,
        latency_frames=latency_frames)


def reusable_row(path: str, stamp: dict) -> Optional[dict]:
    """The row saved at ``path`` if it was made with ``stamp`` and the
    model it evaluated (an exported student) still exists, else None."""
    try:
        with open(path) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get('stamp') != stamp:
        return None
    row = saved.get('row')
    if not isinstance(row, dict):
        return None
    if not osp.isfile(row.get('plain_checkpoint') or ''):
        return None
    return row


def run_benchmark(models: List[ModelSpec],
                  task: str,
                  out_dir: str,
                  title: str,
                  data_root: Optional[str] = None,
                  distill_config: Optional[str] = None,
                  teacher_ckpt: Optional[str] = None,
                  cost_steps: int = 3,
                  latency_frames: int = 10,
                  frame_index: Union[int, str] = 0,
                  commands: Optional[List[str]] = None,
                  notes: Optional[List[str]] = None,
                  reuse: bool = False) -> dict:
    """Evaluate ``models`` and write the table, JSON and pictures.

    Args:
        models (list[ModelSpec]): Rows of the table, in order.
        task (str): 'det' or 'seg'.
        out_dir (str): Where :data:`OUTPUT_FILES` are written.
        title (str): Title of the table and chart.
        data_root (str, optional): Point every config at this data root.
        distill_config (str, optional): The distillation config whose
            training step is benchmarked (``tools/benchmark_distill.py``)
            and, for PointDistiller, whose weighted pillars are drawn.
            Defaults to the first distillation config among ``models``.
        teacher_ckpt (str, optional): Teacher checkpoint for
            ``distill_config`` (default: the config's).
        cost_steps (int): Timed steps of the training-step benchmark
            (0 skips it).
        latency_frames (int): Frames timed per model.
        frame_index (int or str): Validation frame of the pictures
            ('auto': where the first model finds the most cars).
        commands (list[str], optional): Commands recorded in the report.
        notes (list[str], optional): Paragraphs added to the report.
        reuse (bool): Take a model's row (metrics, cost, latency) from the
            previous run in ``out_dir`` when its :func:`row_stamp` is the
            same (``eval/<name>/row.json``) instead of evaluating it again.

    Returns:
        dict: The result written to ``results.json``.
    """
    os.makedirs(out_dir, exist_ok=True)
    work_dir = osp.join(out_dir, 'eval')
    if distill_config is None:
        for spec in models:
            if is_distill_config(Config.fromfile(spec.config)):
                distill_config = spec.config
                break
    rows = []
    for spec in models:
        stamp = row_stamp(spec, task, data_root, latency_frames)
        saved = osp.join(work_dir, spec.name, 'row.json')
        row = reusable_row(saved, stamp) if reuse else None
        if row is not None:
            _log(f'{spec.name}: reusing the evaluation of {spec.checkpoint}'
                 f' ({saved})')
        else:
            _log(f'evaluating {spec.name} ({spec.checkpoint})')
            row = evaluate_model(spec, task, work_dir, data_root,
                                 latency_frames)
            os.makedirs(osp.dirname(saved), exist_ok=True)
            write_json(dict(stamp=stamp, row=row), saved)
        _log(f'{spec.name}: ' + ', '.join(
            f'{k} {row["metrics"][k]:.2f}' for k in headline_keys(task)) +
             f', {row["latency"]["median_ms"]:.0f} ms/frame')
        rows.append(row)
    files = {k: osp.join(out_dir, v) for k, v in OUTPUT_FILES.items()}
    result = dict(
        schema_version=SCHEMA_VERSION,
        title=title,
        task=task,
        device='cpu' if not torch.cuda.is_available() else
        torch.cuda.get_device_name(),
        threads=torch.get_num_threads(),
        data_root=data_root,
        models=rows,
        headline=headline_keys(task),
        train_cost=None,
        distill_config=distill_config,
        files=files,
        commands=commands or [],
        notes=notes or [])
    if distill_config and cost_steps > 0:
        _log(f'training-step cost of {distill_config}')
        result['train_cost'] = train_cost(
            distill_config, teacher_ckpt,
            osp.join(out_dir, 'benchmark_distill.json'), data_root,
            cost_steps)
    _log('drawing')
    # the models as evaluated (students already exported once)
    plain = [
        ModelSpec(r['name'], r['plain_config'], r['plain_checkpoint'])
        for r in rows
    ]
    bar_chart(result, headline_keys(task), files['bar_chart'])
    if task == 'det':
        pd_config = None
        if distill_config:
            d_cfg = Config.fromfile(distill_config)
            losses = d_cfg.get('distiller', {}).get('distill_losses', {})
            if any(v.get('type') == 'PointDistillerLoss'
                   for v in losses.values()):
                pd_config = distill_config
        result['bev_counts'] = bev_picture(plain, files['bev'], data_root,
                                           frame_index,
                                           distill_config=pd_config,
                                           teacher_ckpt=teacher_ckpt)
    else:
        result['bev_counts'] = seg_picture(
            plain, files['bev'], data_root,
            0 if frame_index == 'auto' else frame_index)
    validate_result(result)
    write_json(result, files['json'])
    with open(files['markdown'], 'w') as f:
        f.write(markdown_table(result))
    _log(f'wrote {", ".join(files.values())}')
    return result


__all__ = [
    'ModelSpec', 'run_benchmark', 'bev_picture', 'most_found_frame',
    'seg_picture', 'train_cost'
]
