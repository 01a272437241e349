# Copyright (c) distill3d contributors. All rights reserved.
"""Evaluate one trained run of a study: mmdet3d's metric through
``Runner.test()``, wrapped in :class:`BootstrapMetric`.

Run as a module (the study runner starts it in a subprocess, so that two
evaluations or an evaluation and a training can share the machine)::

    python -m distill3d.benchmark.eval_run CONFIG CHECKPOINT --task det \\
        --out eval.json [--data-root DIR] [--num-samples 200] [--seed 0] \
        [--cfg-options test_dataloader.dataset.variant=PB_T50_RS]
"""
import argparse
import json
import os
import os.path as osp
import time
from typing import Optional

from mmengine.config import DictAction
from mmengine.runner import Runner

from ..evaluation.summary import summarize_metrics
from .evaluate import ModelSpec, config_for_test, plain_model


def evaluate_checkpoint(config: str,
                        checkpoint: str,
                        task: str,
                        out_json: str,
                        data_root: Optional[str] = None,
                        num_samples: int = 200,
                        seed: int = 0,
                        cfg_options: Optional[dict] = None) -> dict:
    """Test a checkpoint with its config's evaluator plus the bootstrap.

    A distillation run's student is exported first (student weights only)
    next to ``out_json``; the plain config is what is tested.

    Args:
        config (str): Training config (plain or distillation).
        checkpoint (str): Its checkpoint.
        task (str): 'det', 'seg' or 'cls'.
        out_json (str): Where the result goes; the per-resample values go
            to ``<out_json stem>_bootstrap.json``.
        data_root (str, optional): Point the config at this data root.
        num_samples (int): Bootstrap resamples.
        seed (int): Seed of the resampled frame indices.
        cfg_options (dict, optional): Options merged into the test config
            (e.g. ``test_dataloader.dataset.variant``), after the data
            root.

    Returns:
        dict: ``metrics`` (summary in percent), ``noise`` (bootstrap std
        per headline key), ``interval`` (2.5 / 97.5 percentiles),
        ``raw_metrics``, ``num_frames``, ``bootstrap_file``, ``seconds``.
    """
    start = time.time()
    out_dir = osp.dirname(osp.abspath(out_json))
    os.makedirs(out_dir, exist_ok=True)
    cfg_path, ckpt = plain_model(
        ModelSpec('model', config, checkpoint), osp.join(out_dir, 'export'))
    cfg = config_for_test(cfg_path, ckpt, osp.join(out_dir, 'test'), data_root)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    boot_file = osp.splitext(out_json)[0] + '_bootstrap.json'
    cfg.test_evaluator = dict(
        type='BootstrapMetric',
        metric=cfg.test_evaluator,
        task=task,
        num_samples=num_samples,
        seed=seed,
        out_file=boot_file)
    runner = Runner.from_cfg(cfg)
    raw = runner.test()
    classes = list(runner.test_dataloader.dataset.metainfo['classes'])
    boot = {
        k.split('bootstrap/')[-1]: float(v)
        for k, v in raw.items() if 'bootstrap/' in k
    }
    plain_raw = {k: float(v) for k, v in raw.items() if 'bootstrap/' not in k}
    keys = [k for k in boot if not k.endswith(('_std', '_lo', '_hi'))]
    with open(boot_file) as f:
        num_frames = json.load(f)['num_frames']
    result = dict(
        config=config,
        checkpoint=checkpoint,
        plain_config=cfg_path,
        classes=classes,
        metrics=summarize_metrics(task, plain_raw, classes),
        noise={k: boot[f'{k}_std']
               for k in keys},
        interval={k: [boot[f'{k}_lo'], boot[f'{k}_hi']]
                  for k in keys},
        raw_metrics=plain_raw,
        num_frames=num_frames,
        bootstrap_file=boot_file,
        seconds=time.time() - start)
    with open(out_json, 'w') as f:
        json.dump(result, f, indent=2)
    return result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--task', required=True, choices=['det', 'seg',
                                                          'cls'])
    parser.add_argument('--out', required=True, help='result JSON')
    parser.add_argument('--data-root')
    parser.add_argument('--num-samples', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override test config settings, e.g. '
        'test_dataloader.dataset.variant=PB_T50_RS')
    return parser.parse_args()


def main() -> None:
    import distill3d  # noqa: F401  (CPU support, registries)
    from distill3d.utils import freeze_startup_objects
    freeze_startup_objects()  # the imports' objects: no full-GC walks
    args = parse_args()
    result = evaluate_checkpoint(args.config, args.checkpoint, args.task,
                                 args.out, args.data_root, args.num_samples,
                                 args.seed, args.cfg_options)
    print(json.dumps(dict(metrics=result['metrics'], noise=result['noise'])))


if __name__ == '__main__':
    main()
