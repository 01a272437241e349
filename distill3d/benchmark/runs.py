# Copyright (c) distill3d contributors. All rights reserved.
"""Reusable training runs for the demo and the seed studies.

A run is ``tools/train.py`` in a subprocess with a schedule sized by
``--cfg-options``; it is skipped when its checkpoint exists and was made
with the same settings (a ``demo_train.json`` stamp in its work dir).
"""
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from typing import List

from ..datasets.synthetic import KittiSynthConfig, create_kitti_dataset
from ..datasets.synthetic.kitti import SETTINGS_FILE, generator_settings

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STAMP = 'demo_train.json'


def log(msg: str) -> None:
    print(f'[demo {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def prepare_kitti_data(data_root: str,
                       seed: int,
                       num_train: int,
                       num_val: int,
                       force: bool = False) -> None:
    """Generate synthetic KITTI data unless ``data_root`` holds the same."""
    cfg = KittiSynthConfig(num_train=num_train, num_val=num_val)
    want = generator_settings(seed, cfg)
    path = osp.join(data_root, SETTINGS_FILE)
    if not force and osp.isfile(path):
        with open(path) as f:
            if json.load(f) == want:
                log(f'reusing the synthetic KITTI data in {data_root}')
                return
    log(f'generating synthetic KITTI data in {data_root} ({num_train} '
        f'train + {num_val} val frames, seed {seed})')
    stats = create_kitti_dataset(data_root, seed, cfg)
    log(f'{stats["num_frames"]} frames, objects: {stats["classes"]}')


def schedule_options(epochs: int, seed: int) -> List[str]:
    """``--cfg-options`` that train ``epochs`` epochs with a matching
    cosine schedule, one checkpoint and validation at the end, and the
    random seed ``seed``."""
    return [
        f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
        f'param_scheduler.1.T_max={epochs}', f'param_scheduler.1.end={epochs}',
        f'default_hooks.checkpoint.interval={epochs}',
        'default_hooks.checkpoint.max_keep_ckpts=1', f'randomness.seed={seed}'
    ]


def train_command(config: str, work_dir: str, data_root: str,
                  options: List[str]) -> List[str]:
    """The ``tools/train.py`` command line of a run (without python)."""
    return ['tools/train.py', config, '--work-dir', work_dir, '--data-root',
            data_root, '--cfg-options'] + options


def format_command(args: List[str]) -> str:
    """A command line as it is printed in reports."""
    return ' '.join(['python'] + [shlex.quote(a) for a in args])


def train_model(name: str,
                config: str,
                work_dir: str,
                data_root: str,
                options: List[str],
                force: bool = False) -> str:
    """Train (or reuse) one model; returns its last checkpoint.

    Progress lines (``Epoch(train)``: iteration, eta, losses) are printed with
    the run's name; the full log goes to ``work_dir/train.log``.
    """
    epochs = [o for o in options if o.startswith('train_cfg.max_epochs=')]
    ckpt = osp.join(work_dir, f'epoch_{epochs[-1].split("=")[1]}.pth')
    stamp = osp.join(work_dir, STAMP)
    settings = dict(config=config, options=options, data_root=data_root)
    if not force and osp.isfile(ckpt) and osp.isfile(stamp):
        with open(stamp) as f:
            if json.load(f) == settings:
                log(f'{name}: reusing {ckpt} (--force to retrain)')
                return ckpt
    os.makedirs(work_dir, exist_ok=True)
    log(f'{name}: training ({config})')
    start = time.time()
    cmd = [sys.executable] + train_command(config, work_dir, data_root,
                                           options)
    with open(osp.join(work_dir, 'train.log'), 'w') as logf:
        proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)
        for line in proc.stdout:
            logf.write(line)
            if 'Epoch(train)' in line:
                text = line.split(' - INFO - ')[-1].rstrip()
                print(f'  [{name}] {text[:150]}', flush=True)
        if proc.wait() != 0:
            raise RuntimeError(f'{name}: training failed, see '
                               f'{osp.join(work_dir, "train.log")}')
    if not osp.isfile(ckpt):
        raise RuntimeError(f'{name}: {ckpt} was not written')
    with open(stamp, 'w') as f:
        json.dump(settings, f, indent=2)
    log(f'{name}: trained in {time.time() - start:.0f} s')
    return ckpt
