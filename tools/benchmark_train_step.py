"""Time the train step (forward, backward, optimizer) of configs' models.

Usage:
    python tools/benchmark_train_step.py CONFIG [CONFIG ...]
        [--data-root DIR] [--steps 5] [--warmup 1] [--batch-size N]
        [--threads N] [--markdown] [--json OUT]

Builds each model, optimizer and train dataloader exactly as
``tools/train.py`` would (mmengine Runner), then runs ``model.train_step``
on the same batches repeatedly and prints the median and spread of the step
time and of the predict time (on the validation loader's batches, as
``tools/test.py`` runs them), the parameter count and the peak RSS. With
several configs (e.g. one per model family) the configs run one after the
other in this process, on the same data root, thread count and batch size,
and a table compares them (``--markdown``: as a Markdown table). The peak
RSS is the process's, so it only grows from one config to the next.
"""
import argparse
import json
import os.path as osp
import resource
import statistics
import time
from typing import Dict, List

import distill3d  # noqa: F401
import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from distill3d.utils import set_data_root


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+', metavar='CONFIG')
    parser.add_argument('--data-root', help='point the configs at this root')
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--work-dir', default='work_dirs/benchmark')
    parser.add_argument('--markdown', action='store_true',
                        help='print the comparison as a Markdown table')
    parser.add_argument('--json', help='write the results to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='applied to every config')
    return parser.parse_args()


def measure(config: str, args: argparse.Namespace) -> Dict[str, object]:
    """Train-step and predict times of one config's model.

    Args:
        config (str): Config path.
        args (argparse.Namespace): The command line.

    Returns:
        dict: ``config``, ``params``, ``batch_size``, ``train_step_s``
        (list of the timed steps), ``train_step_median_s``,
        ``predict_median_s`` (up to 3 batches of the validation loader,
        ``predict_batch_size``) and ``peak_rss_gib`` (the process's so
        far).
    """
    cfg = Config.fromfile(config)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.batch_size:
        cfg.train_dataloader.batch_size = args.batch_size
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    name = osp.splitext(osp.basename(config))[0]
    cfg.work_dir = osp.join(args.work_dir, name)
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    model = runner.model
    optim_wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
    loader = iter(runner.build_dataloader(cfg.train_dataloader))
    batches = [next(loader) for _ in range(max(1, args.steps))]

    model.train()
    times = []
    for i in range(args.warmup + args.steps):
        batch = batches[i % len(batches)]
        start = time.perf_counter()
        model.train_step(batch, optim_wrapper)
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    # predict on the validation loader's batches, as tools/test.py does
    # (two-stage heads such as PointRCNN's assume the val batch size)
    model.eval()
    pred = []
    val_loader = iter(runner.build_dataloader(cfg.val_dataloader))
    with torch.no_grad():
        for _ in range(3):
            batch = next(val_loader, None)
            if batch is None:
                break
            start = time.perf_counter()
            model.test_step(batch)
            pred.append(time.perf_counter() - start)
    return dict(
        config=config,
        params=sum(p.numel() for p in model.parameters()),
        batch_size=cfg.train_dataloader.batch_size,
        predict_batch_size=cfg.val_dataloader.batch_size,
        train_step_s=times,
        train_step_median_s=statistics.median(times),
        predict_median_s=statistics.median(pred),
        peak_rss_gib=resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024**2)


def report(res: Dict[str, object]) -> None:
    """Print one config's result."""
    times = res['train_step_s']
    print(f"config: {res['config']}")
    print(f"params: {res['params'] / 1e6:.2f}M  batch: {res['batch_size']}  "
          f'threads: {torch.get_num_threads()}')
    print(f"train step: median {res['train_step_median_s']:.2f} s "
          f'(min {min(times):.2f}, max {max(times):.2f}, n={len(times)})')
    print(f"predict (batch {res['predict_batch_size']}): median "
          f"{res['predict_median_s']:.2f} s")
    print(f"peak RSS: {res['peak_rss_gib']:.2f} GiB", flush=True)


def table(results: List[Dict[str, object]], markdown: bool) -> str:
    """The comparison of several configs, one row each."""
    head = ('config', 'params (M)', 'batch', 'train step median (s)',
            'min-max (s)', 'predict median (s)', 'predict batch')
    rows = [(osp.splitext(osp.basename(r['config']))[0],
             f"{r['params'] / 1e6:.2f}", str(r['batch_size']),
             f"{r['train_step_median_s']:.2f}",
             f"{min(r['train_step_s']):.2f}-{max(r['train_step_s']):.2f}",
             f"{r['predict_median_s']:.2f}", str(r['predict_batch_size']))
            for r in results]
    if markdown:
        lines = ['| ' + ' | '.join(head) + ' |',
                 '|' + ' --- |' * len(head)]
        lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
        return '\n'.join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    return '\n'.join('  '.join(x.ljust(w) for x, w in zip(row, widths))
                     for row in (head, *rows))


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results = []
    for config in args.configs:
        results.append(measure(config, args))
        report(results[-1])
    if len(results) > 1:
        print(f'\n{len(results)} configs, threads {torch.get_num_threads()},'
              f' {args.steps} timed steps after {args.warmup} warm-up:')
        print(table(results, args.markdown))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(threads=torch.get_num_threads(), steps=args.steps,
                           warmup=args.warmup, results=results), f, indent=1)


if __name__ == '__main__':
    main()
