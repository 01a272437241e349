"""tools/train.py, --resume and tools/test.py as a user runs them."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from helpers import REPO, config_path

PP = ('pointpillars/'
      'pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py')


def _run(args, cwd):
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable] + args,
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _options(data_root):
    """--cfg-options that size the run for a test (data_root via paths)."""
    kitti = data_root.rstrip('/') + '/'
    return [
        '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.dataset.data_root={kitti}',
        # 2 of the 4 frames at batch 2: one iteration per epoch
        'train_dataloader.dataset.dataset.indices=2',
        f'val_dataloader.dataset.data_root={kitti}',
        f'test_dataloader.dataset.data_root={kitti}',
        f'val_evaluator.ann_file={kitti}kitti_infos_val.pkl',
        f'test_evaluator.ann_file={kitti}kitti_infos_val.pkl',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1'
    ]


@pytest.mark.slow
def test_train_resume_test_cli(synthetic_kitti, tmp_path):
    # The ObjectSample GT database path is inside the pipeline list, which
    # --cfg-options cannot reach: give the config's default data_root a
    # link to the synthetic set instead.
    os.makedirs(tmp_path / 'data')
    os.symlink(synthetic_kitti, tmp_path / 'data' / 'synthetic_kitti')
    work = str(tmp_path / 'work')
    out = _run([
        osp.join(REPO, 'tools/train.py'),
        config_path(PP), '--work-dir', work
    ] + _options(synthetic_kitti), cwd=tmp_path)
    # the CPU-support layer announced itself in the runner's log
    log = open(glob.glob(osp.join(work, '*', '*.log'))[0]).read()
    assert 'distill3d CPU support' in log
    ckpt1 = osp.join(work, 'epoch_1.pth')
    assert osp.isfile(ckpt1)
    # weights-only loading (torch's default) of an mmengine checkpoint
    state = torch.load(ckpt1)
    assert state['meta']['epoch'] == 1

    opts = _options(synthetic_kitti)
    opts[opts.index('train_cfg.max_epochs=1')] = 'train_cfg.max_epochs=2'
    out = _run([
        osp.join(REPO, 'tools/train.py'),
        config_path(PP), '--work-dir', work, '--resume', ckpt1
    ] + opts, cwd=tmp_path)
    assert 'resumed epoch: 1' in out
    state2 = torch.load(osp.join(work, 'epoch_2.pth'))
    assert state2['meta']['epoch'] == 2
    # resuming restored the optimizer state (Adam moments exist and moved)
    assert state2['optimizer']['state'], 'optimizer state not saved'
    step1 = state['optimizer']['state'][0]['step']
    step2 = state2['optimizer']['state'][0]['step']
    assert float(step2) == 2 * float(step1)

    out = _run([
        osp.join(REPO, 'tools/test.py'),
        config_path(PP),
        osp.join(work, 'epoch_2.pth'), '--work-dir',
        str(tmp_path / 'test')
    ] + _options(synthetic_kitti), cwd=tmp_path)
    assert 'Overall_3D_AP40_moderate' in out
