"""Distributed distillation on CPU: 2 ranks, gloo, mmengine's launcher.

``dist_distill_script.py`` runs under ``python -m torch.distributed.run``
and builds the config like ``tools/train.py --launcher pytorch``. DDP keeps
the ranks' parameters identical; BatchNorm running statistics are per rank
(mmengine's DDP default ``broadcast_buffers=False``) and are not compared.
"""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from helpers import REPO, config_path

FITNETS = config_path(
    'distill/fitnets_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py')
SCRIPT = osp.join(REPO, 'tests', 'test_engine', 'dist_distill_script.py')


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _run_ranks(data_root, tmp_path, extra=(), config=FITNETS):
    out = tmp_path / 'out'
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    for key in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR',
                'MASTER_PORT'):
        env.pop(key, None)
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1',
        '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
        '--master_port',
        str(_free_port()), SCRIPT, config, '--data-root', data_root,
        '--work-dir',
        str(tmp_path / 'work'), '--out-dir',
        str(out)
    ] + list(extra)
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    infos = [json.load(open(out / f'info_rank{r}.json')) for r in (0, 1)]
    final = [torch.load(out / f'student_rank{r}.pth') for r in (0, 1)]
    init = [torch.load(out / f'student_init_rank{r}.pth') for r in (0, 1)]
    return infos, init, final, proc.stdout + proc.stderr


def _params(student_state, names):
    return {k: student_state[k] for k in names}


def _student_param_names():
    """Parameter (not buffer) names of the FitNets student."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmdet3d.registry import MODELS
    init_default_scope('mmdet3d')
    model = MODELS.build(Config.fromfile(FITNETS).model)
    return [n for n, _ in model.named_parameters()]


def _check_ranks_agree(init, final):
    names = _student_param_names()
    assert names and set(names) <= set(final[0])
    for k in names:
        assert torch.equal(init[0][k], init[1][k]), f'init differs: {k}'
        assert torch.equal(final[0][k], final[1][k]), \
            f'ranks diverged at {k}'
    changed = [k for k in names if not torch.equal(init[0][k], final[0][k])]
    # every student parameter got gradients and moved
    assert len(changed) == len(names), set(names) - set(changed)
    # both ranks counted the same BatchNorm updates
    for k in final[0]:
        if k.endswith('num_batches_tracked'):
            assert torch.equal(final[0][k], final[1][k])


@pytest.mark.slow
def test_ddp_distillation_keeps_ranks_identical(synthetic_kitti, tmp_path):
    # 4 frames over 2 ranks at batch 1: 2 DDP iterations with the KD term
    infos, init, final, log = _run_ranks(synthetic_kitti, tmp_path)
    for rank, info in enumerate(infos):
        assert info['rank'] == rank and info['world_size'] == 2
        assert info['backend'] == 'gloo'
        assert info['wrapper'] == 'MMDistributedDataParallel'
        # no unused parameters: the plain FitNets run needs no detection
        assert info['find_unused_parameters'] is False
        assert info['iters'] == 2 and info['epoch'] == 1
    assert 'loss_kd_neck' in log
    _check_ranks_agree(init, final)
    # rank 0 saved the distiller's checkpoint
    assert osp.isfile(tmp_path / 'work' / 'epoch_1.pth')


@pytest.mark.slow
def test_ddp_stop_distill_with_find_unused_parameters(synthetic_kitti,
                                                      tmp_path):
    # After StopDistillHook the adapter gets no gradient: DDP then needs
    # find_unused_parameters, set the mmdet3d way (top-level key), which
    # use_gloo_on_cpu carries into the CPU wrapper config. 8 frames over 2
    # ranks: 4 iterations, KD in the first only.
    infos, init, final, log = _run_ranks(
        synthetic_kitti, tmp_path,
        ['--stop-iter', '1', '--cfg-options', 'find_unused_parameters=True',
         'train_dataloader.dataset.times=2'])
    for info in infos:
        assert info['find_unused_parameters'] is True
        assert info['broadcast_buffers'] is False
        assert info['iters'] == 4 and info['distill_enabled'] is False
    assert 'StopDistillHook: distillation stops' in log
    _check_ranks_agree(init, final)


@pytest.mark.slow
def test_ddp_fad_alternating_updates_keep_ranks_identical(tmp_path):
    """FAD (student and discriminator optimizers, alternating updates)
    under AdversarialDistillerDDP: gradients averaged per update, so every
    trained parameter (student, adapter, discriminator) is identical on
    both ranks after training, and each moved."""
    from cls_helpers import FAD_CPU, TINY_POINTS, make_tiny_modelnet40
    data = make_tiny_modelnet40(str(tmp_path / 'mn40'))
    opts = ['model.backbone.num_points=(16,4)',
            'model.backbone.num_samples=(8,4)', 'param_scheduler=[]',
            f'train_dataloader.dataset.pipeline.1.num_points={TINY_POINTS}']
    # 80 shapes over 2 ranks at batch 8: 5 iterations
    infos, _, _, log = _run_ranks(
        data, tmp_path, ['--batch-size', '8', '--cfg-options'] + opts,
        config=FAD_CPU)
    out = tmp_path / 'out'
    init = [torch.load(out / f'student_init_trained_rank{r}.pth')
            for r in (0, 1)]
    final = [torch.load(out / f'student_trained_rank{r}.pth')
             for r in (0, 1)]
    for info in infos:
        assert info['wrapper'] == 'AdversarialDistillerDDP'
        assert info['iters'] == 5
    assert 'disc_loss' in log and 'loss_kd_fad' in log
    names = sorted(final[0])
    assert any('discriminator' in n for n in names)
    assert any(n.startswith('adapters.') for n in names)
    for k in names:
        assert torch.equal(init[0][k], init[1][k]), f'init differs: {k}'
        assert torch.equal(final[0][k], final[1][k]), f'ranks diverged: {k}'
    moved = [k for k in names if not torch.equal(init[0][k], final[0][k])]
    assert len(moved) == len(names), set(names) - set(moved)
