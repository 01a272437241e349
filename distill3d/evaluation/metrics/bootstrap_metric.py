# Copyright (c) distill3d contributors. All rights reserved.
"""Evaluation noise of a metric: bootstrap over validation frames.

:class:`BootstrapMetric` wraps any mmdet3d / distill3d metric: it returns
the wrapped metric's output unchanged and adds, for each headline number
of :mod:`distill3d.evaluation.summary`, its standard deviation and 95%
percentile interval over ``num_samples`` resamples (with replacement) of
the validation frames. The resampled frame indices depend only on
``seed`` and the number of frames, so two models evaluated on the same
set see the same resamples (paired bootstrap).

KittiMetric's rotated-box overlaps and per-frame box filtering, the costly
parts of ``kitti_eval``, are computed once per frame and reused by every
resample, and a resample
evaluates only the headline's setting (moderate, strict IoU, BEV and 3D)
with mmdet3d's own ``eval_class``. Other metrics run their own
``compute_metrics`` on each resample, logger silenced.
"""
import contextlib
import gc
import json
import logging
import time
from types import SimpleNamespace
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.fileio import load
from mmengine.logging import MMLogger

from mmdet3d.registry import METRICS
from ..summary import TASKS, headline_keys, summarize_metrics

#: ``kitti_eval``'s class ids and its strict IoU thresholds for BEV and 3D
#: (``overlap_0_7`` in mmdet3d's kitti_utils/eval.py); the bootstrap test
#: checks that the resampled numbers equal KittiMetric's
KITTI_CLASS_IDS = dict(Car=0, Pedestrian=1, Cyclist=2, Van=3,
                       Person_sitting=4)
KITTI_STRICT_IOU = dict(Car=0.7, Pedestrian=0.5, Cyclist=0.5, Van=0.7,
                        Person_sitting=0.5)


def resample_indices(num_frames: int, num_samples: int,
                     seed: int = 0) -> np.ndarray:
    """(num_samples, num_frames) frame indices drawn with replacement."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, num_frames, size=(num_samples, num_frames))


@contextlib.contextmanager
def _quiet_logger() -> Iterator[None]:
    """Silence the current mmengine logger below WARNING."""
    logger = MMLogger.get_current_instance()
    levels = [(h, h.level) for h in logger.handlers]
    old = logger.level
    logger.setLevel(logging.WARNING)
    for handler, _ in levels:
        handler.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(old)
        for handler, level in levels:
            handler.setLevel(level)


class _CachedKittiOverlaps:
    """Stand-in for mmdet3d's ``calculate_iou_partly`` on resamples.

    Holds the per-frame dt x gt overlaps of the full set for the BEV (1)
    and 3D (2) metrics, keyed by the identity of each
    frame's detection annotation, and rebuilds the per-part block
    matrices ``eval_class`` expects for any list of those frames.
    """

    def __init__(self, original, dt_annos: List[dict],
                 gt_annos: List[dict]):
        self.original = original
        self.frame_of = {id(a): i for i, a in enumerate(dt_annos)}
        self.cache: Dict[int, list] = {}
        parts = max(1, min(50, len(dt_annos)))
        for metric in (1, 2):
            self.cache[metric] = original(dt_annos, gt_annos, metric,
                                          parts)[0]

    def __call__(self, dt_annos, gt_annos, metric, num_parts=50):
        from mmdet3d.evaluation.functional.kitti_utils.eval import \
            get_split_parts
        if metric not in self.cache:
            return self.original(dt_annos, gt_annos, metric, num_parts)
        frames = [self.frame_of[id(a)] for a in dt_annos]
        overlaps = [self.cache[metric][i] for i in frames]
        total_gt = np.array([len(a['name']) for a in gt_annos], np.int64)
        total_dt = np.array([len(a['name']) for a in dt_annos], np.int64)
        parted, start = [], 0
        for num in get_split_parts(len(frames), num_parts):
            block = np.zeros((int(total_dt[start:start + num].sum()),
                              int(total_gt[start:start + num].sum())))
            r = c = 0
            for i in range(start, start + num):
                block[r:r + total_dt[i], c:c + total_gt[i]] = overlaps[i]
                r += total_dt[i]
                c += total_gt[i]
            parted.append(block)
            start += num
        return overlaps, parted, total_dt, total_gt


class _CachedKittiFrames:
    """Stand-in for mmdet3d's ``_prepare_data`` on resamples.

    ``_prepare_data`` filters each frame's boxes by class and difficulty in
    a Python loop, the costly part of ``eval_class`` once the overlaps are
    cached; its per-frame output does not depend on the other frames, so
    it is computed once per frame, class and difficulty and assembled for
    any list of those frames.
    """

    def __init__(self, original, dt_annos: List[dict]):
        self.original = original
        self.frame_of = {id(a): i for i, a in enumerate(dt_annos)}
        self.cache: Dict[tuple, tuple] = {}

    def _frame(self, gt: dict, dt: dict, frame: int, current_class: int,
               difficulty: int) -> tuple:
        key = (frame, current_class, difficulty)
        if key not in self.cache:
            out = self.original([gt], [dt], current_class, difficulty)
            self.cache[key] = (out[0][0], out[1][0], out[2][0], out[3][0],
                               out[4][0], out[5][0], out[6])
        return self.cache[key]

    def __call__(self, gt_annos, dt_annos, current_class, difficulty):
        frames = [
            self._frame(g, d, self.frame_of[id(d)], current_class,
                        difficulty) for g, d in zip(gt_annos, dt_annos)
        ]
        return ([f[0] for f in frames], [f[1] for f in frames],
                [f[2] for f in frames], [f[3] for f in frames],
                [f[4] for f in frames],
                np.array([f[5] for f in frames], dtype=np.int64),
                sum(f[6] for f in frames))


@METRICS.register_module()
class BootstrapMetric(BaseMetric):
    """A metric plus the bootstrap noise of its headline numbers.

    Args:
        metric (dict): Config of the wrapped metric (e.g. ``KittiMetric``).
        task (str): 'det', 'seg' or 'cls': which headline numbers
            (:func:`distill3d.evaluation.summary.summarize_metrics`).
        keys (Sequence[str], optional): Headline numbers to resample.
            Defaults to the task's (BEV / 3D mAP, mIoU (+ hard mIoU), OA /
            mAcc).
        num_samples (int): Resamples. Defaults to 200.
        seed (int): Seed of the resampled indices. Defaults to 0.
        out_file (str, optional): JSON file for the per-resample values
            (``{"indices_seed", "num_frames", "values": {key: [...]}}``),
            for paired comparisons of models on the same resamples.
        collect_device (str): See :class:`BaseMetric`.

    The output holds the wrapped metric's keys and, under the same prefix,
    ``bootstrap/<key>`` (value on all frames), ``bootstrap/<key>_std``,
    ``bootstrap/<key>_lo`` and ``bootstrap/<key>_hi`` (2.5 / 97.5
    percentiles), in percent.
    """

    def __init__(self,
                 metric: dict,
                 task: str,
                 keys: Optional[Sequence[str]] = None,
                 num_samples: int = 200,
                 seed: int = 0,
                 out_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        if task not in TASKS:
            raise ValueError(f'BootstrapMetric: task must be one of {TASKS}, '
                             f'got {task!r}')
        if num_samples < 2:
            raise ValueError('BootstrapMetric: num_samples must be >= 2, got '
                             f'{num_samples}')
        self.inner = METRICS.build(metric)
        super().__init__(
            collect_device=collect_device,
            prefix=prefix or self.inner.prefix)
        self.task = task
        self.keys = list(keys) if keys else None
        self.num_samples = num_samples
        self.seed = seed
        self.out_file = out_file

    @property
    def dataset_meta(self) -> Optional[dict]:
        return self.inner.dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta: dict) -> None:
        self.inner.dataset_meta = meta

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Let the wrapped metric process the batch; keep its results."""
        self.inner.process(data_batch, data_samples)
        self.results.extend(self.inner.results)
        self.inner.results.clear()

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """The wrapped metric's output plus the bootstrap statistics."""
        metrics = dict(self.inner.compute_metrics(results))
        classes = list((self.dataset_meta or {}).get('classes', []))
        keys = self.keys or [
            k for k in headline_keys(self.task) +
            (['hard mIoU'] if self.task == 'seg' else [])
            if k in summarize_metrics(self.task, metrics, classes)
        ]
        full = summarize_metrics(self.task, metrics, classes)
        indices = resample_indices(len(results), self.num_samples, self.seed)
        start = time.time()
        values = self.resampled(results, indices, keys, classes)
        seconds = time.time() - start
        for key in keys:
            vals = np.asarray(values[key], dtype=np.float64)
            metrics[f'bootstrap/{key}'] = float(full[key])
            metrics[f'bootstrap/{key}_std'] = float(vals.std(ddof=1))
            metrics[f'bootstrap/{key}_lo'] = float(np.percentile(vals, 2.5))
            metrics[f'bootstrap/{key}_hi'] = float(np.percentile(vals, 97.5))
        if self.out_file:
            with open(self.out_file, 'w') as f:
                json.dump(
                    dict(
                        indices_seed=self.seed,
                        num_frames=len(results),
                        num_samples=self.num_samples,
                        seconds=seconds,
                        full={k: float(full[k])
                              for k in keys},
                        values={k: list(map(float, v))
                                for k, v in values.items()}), f)
        return metrics

    def resampled(self, results: list, indices: np.ndarray,
                  keys: List[str], classes: List[str]) -> Dict[str, list]:
        """Headline values on each row of ``indices`` (frame resamples)."""
        from mmdet3d.evaluation.metrics import KittiMetric
        if isinstance(self.inner, KittiMetric):
            return self._kitti_resampled(results, indices, keys, classes)
        values: Dict[str, list] = {k: [] for k in keys}
        with _quiet_logger():
            for idx in indices:
                raw = self.inner.compute_metrics([results[i] for i in idx])
                summary = summarize_metrics(self.task, raw, classes)
                for key in keys:
                    values[key].append(summary[key])
        return values

    def _kitti_resampled(self, results: list, indices: np.ndarray,
                         keys: List[str],
                         classes: List[str]) -> Dict[str, list]:
        """KittiMetric's headline numbers on resamples.

        Only what the headline needs is evaluated on a resample: BEV and
        3D AP40 at moderate difficulty with KITTI's strict IoU, by
        mmdet3d's own ``eval_class`` (the numbers ``kitti_eval`` reports
        as ``<class>_{BEV,3D}_AP40_moderate_strict``), with every frame's
        overlaps computed once.
        """
        from mmdet3d.evaluation.functional.kitti_utils import eval as keval
        inner = self.inner
        infos = load(inner.ann_file, backend_args=inner.backend_args)
        data_infos = inner.convert_annos_to_kitti_annos(infos)
        with _quiet_logger():
            formatted, tmp_dir = inner.format_results(
                results, classes=classes)
        if tmp_dir is not None:
            tmp_dir.cleanup()
        dt_annos = formatted['pred_instances_3d']
        gt_annos = [data_infos[r['sample_idx']]['kitti_annos']
                    for r in results]
        class_ids = [KITTI_CLASS_IDS[c] for c in classes]
        # [1 overlap setting, 3 metrics (bbox, bev, 3d), classes]
        strict = np.array([[[KITTI_STRICT_IOU[c] for c in classes]] * 3])
        originals = (keval.calculate_iou_partly, keval._prepare_data,
                     keval.gc)
        values: Dict[str, list] = {k: [] for k in keys}
        keval.calculate_iou_partly = _CachedKittiOverlaps(
            originals[0], dt_annos, gt_annos)
        keval._prepare_data = _CachedKittiFrames(originals[1], dt_annos)
        # eval_class ends with a full gc.collect(), ~0.8 s in a process
        # that holds a model and a data set: once at the end is enough
        keval.gc = SimpleNamespace(collect=lambda *args: 0)
        try:
            for idx in indices:
                gt = [gt_annos[i] for i in idx]
                dt = [dt_annos[i] for i in idx]
                raw = {}
                for metric, name in ((1, 'BEV'), (2, '3D')):
                    ret = keval.eval_class(gt, dt, class_ids, [1], metric,
                                           strict)
                    ap40 = keval.get_mAP40(ret['precision'])
                    for j, cls in enumerate(classes):
                        raw[f'KITTI/{cls}_{name}_AP40_moderate_strict'] = \
                            float(ap40[j, 0, 0])
                summary = summarize_metrics(self.task, raw, classes)
                for key in keys:
                    values[key].append(summary[key])
        finally:
            (keval.calculate_iou_partly, keval._prepare_data,
             keval.gc) = originals
            gc.collect()
        return values
