"""Time the train step (forward, backward, optimizer) of a config's model.

Usage:
    python tools/benchmark_train_step.py CONFIG [--data-root DIR]
        [--steps 5] [--warmup 1] [--batch-size N] [--threads N]

Builds the model, optimizer and train dataloader exactly as
``tools/train.py`` would (mmengine Runner), then runs ``model.train_step``
on the same batches repeatedly and prints the median and spread of the step
time and of the predict time, the parameter count and the peak RSS.
"""
import argparse
import resource
import statistics
import time

import distill3d  # noqa: F401
import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from distill3d.utils import set_data_root


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--data-root', help='point the config at this root')
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--work-dir', default='work_dirs/benchmark')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.batch_size:
        cfg.train_dataloader.batch_size = args.batch_size
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    cfg.work_dir = args.work_dir
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
    model.eval()
    pred = []
    with torch.no_grad():
        for batch in batches[:3]:
            start = time.perf_counter()
            model.test_step(batch)
            pred.append(time.perf_counter() - start)
    params = sum(p.numel() for p in model.parameters())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    bs = cfg.train_dataloader.batch_size
    print(f'config: {args.config}')
    print(f'params: {params / 1e6:.2f}M  batch: {bs}  threads: '
          f'{torch.get_num_threads()}')
    print(f'train step: median {statistics.median(times):.2f} s '
          f'(min {min(times):.2f}, max {max(times):.2f}, n={len(times)})')
    print(f'predict (batch {bs}): median {statistics.median(pred):.2f} s')
    print(f'peak RSS: {rss:.2f} GiB')


if __name__ == '__main__':
    main()
