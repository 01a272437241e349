# Copyright (c) distill3d contributors. All rights reserved.
"""Evaluate one trained model: metrics, cost and CPU latency per frame."""
import os
import os.path as osp
import statistics
import time
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner

from ..apis import export_student, is_distill_config
from ..evaluation.summary import (HARD_SEG_CLASSES, detection_summary,
                                  headline_keys, segmentation_summary,
                                  summarize_metrics)
from ..utils import set_data_root
from .complexity import count_macs, count_params

TASKS = ('det', 'seg', 'cls')
__all__ = [
    'HARD_SEG_CLASSES', 'ModelSpec', 'detection_summary', 'evaluate_model',
    'headline_keys', 'is_distill_config', 'plain_model',
    'segmentation_summary'
]


@dataclass
class ModelSpec:
    """A trained model to benchmark.

    Args:
        name (str): Row name in the table (e.g. 'teacher').
        config (str): Its training config: a plain mmdet3d config or a
            distillation config (the student is evaluated).
        checkpoint (str): The checkpoint that config trained.
    """
    name: str
    config: str
    checkpoint: str


def plain_model(spec: ModelSpec, work_dir: str) -> Tuple[str, str]:
    """The config and checkpoint of a plain mmdet3d model for ``spec``.

    A distillation checkpoint is exported (student weights only, through
    :func:`distill3d.apis.export_student`) into ``work_dir``.

    Returns:
        tuple[str, str]: config path and checkpoint path.
    """
    for path in (spec.config, spec.checkpoint):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{spec.name}: {path} does not exist')
    if not is_distill_config(Config.fromfile(spec.config)):
        return spec.config, spec.checkpoint
    os.makedirs(work_dir, exist_ok=True)
    out = osp.join(work_dir, f'{spec.name}_student.pth')
    out_cfg = osp.join(work_dir, f'{spec.name}_student.py')
    export_student(spec.config, spec.checkpoint, out, out_cfg)
    return out_cfg, out


def config_for_test(cfg_path: str,
                checkpoint: str,
                work_dir: str,
                data_root: Optional[str] = None) -> Config:
    """The config that tests a plain model's checkpoint in one process.

    Args:
        cfg_path (str): A plain (non-distillation) mmdet3d config.
        checkpoint (str): Its checkpoint, loaded through ``load_from``.
        work_dir (str): The test runner's work dir.
        data_root (str, optional): Point the config at this data root.

    Returns:
        Config: ``Runner.from_cfg`` ready, quiet (WARNING log level), with
        a single-process test loader and no visualization hook.
    """
    cfg = Config.fromfile(cfg_path)
    if data_root:
        set_data_root(cfg, data_root)
    cfg.pop('runner_type', None)
    cfg.work_dir = work_dir
    cfg.load_from = checkpoint
    cfg.resume = False
    cfg.log_level = 'WARNING'
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.persistent_workers = False
    cfg.default_hooks.pop('visualization', None)
    return cfg


def measure_latency(model: torch.nn.Module,
                    dataset,
                    num_frames: int = 10,
                    warmup: int = 2) -> Dict[str, float]:
    """CPU/GPU time of ``model.test_step`` on single frames (batch 1).

    Covers the data preprocessor (voxelization), the forward pass and the
    post-processing, not the data loading. Frames are the dataset's first
    ``warmup + num_frames`` (cycled when it is smaller).

    Returns:
        dict: ``median_ms``, ``min_ms``, ``max_ms`` and ``frames``.
    """
    model.eval()
    device = next(model.parameters()).device
    times = []
    with torch.no_grad():
        for i in range(warmup + num_frames):
            batch = pseudo_collate([dataset[i % len(dataset)]])
            start = time.perf_counter()
            model.test_step(batch)
            if device.type == 'cuda':
                torch.cuda.synchronize()
            if i >= warmup:
                times.append(1000 * (time.perf_counter() - start))
    return dict(
        median_ms=statistics.median(times),
        min_ms=min(times),
        max_ms=max(times),
        frames=num_frames)


def evaluate_model(spec: ModelSpec,
                   task: str,
                   work_dir: str,
                   data_root: Optional[str] = None,
                   latency_frames: int = 10) -> dict:
    """Test one model with its config's evaluator and measure its cost.

    Args:
        spec (:obj:`ModelSpec`): The model.
        task (str): 'det' (KittiMetric) or 'seg' (SegMetric).
        work_dir (str): Where the exported student and the test logs go.
        data_root (str, optional): Point the config at this data root.
        latency_frames (int): Frames timed for the latency.

    Returns:
        dict: ``name``, ``config``, ``checkpoint``, ``params``, ``gmacs``,
        ``latency`` (:func:`measure_latency`), ``metrics`` (summary in
        percent), ``raw_metrics`` (the evaluator's output) and
        ``plain_config`` / ``plain_checkpoint`` (what was evaluated: the
        exported student for a distillation run).
    """
    if task not in TASKS:
        raise ValueError(f'task must be one of {TASKS}, got {task!r}')
    cfg_path, ckpt = plain_model(spec, work_dir)
    cfg = config_for_test(cfg_path, ckpt, osp.join(work_dir, spec.name),
                      data_root)
    runner = Runner.from_cfg(cfg)
    raw = runner.test()
    model = runner.model
    dataset = runner.test_dataloader.dataset
    classes = list(dataset.metainfo['classes'])
    summary = summarize_metrics(task, raw, classes)
    macs = count_macs(model, pseudo_collate([dataset[0]]))
    return dict(
        name=spec.name,
        config=spec.config,
        checkpoint=spec.checkpoint,
        params=count_params(model),
        gmacs=macs['macs'] / 1e9,
        latency=measure_latency(model, dataset, latency_frames),
        metrics=summary,
        raw_metrics={k: float(v) for k, v in raw.items()},
        plain_config=cfg_path,
        plain_checkpoint=ckpt)
