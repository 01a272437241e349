"""Distributed-launch helpers."""
import torch
from mmengine.config import Config
from mmengine.logging import print_log


def use_gloo_on_cpu(cfg: Config) -> None:
    """Set a distributed run on a machine without GPUs up for CPU.

    mmdet3d's default runtime asks for NCCL, which needs CUDA: use gloo. And
    mmengine gives DistributedDataParallel ``device_ids=[LOCAL_RANK]``,
    which DDP rejects for CPU modules: use ``device_ids=None``. Used by
    ``tools/train.py`` and ``tools/test.py`` after the launcher is set.

    A wrapper config created here keeps what mmengine gives DDP without
    one: ``broadcast_buffers=False`` and the config's top-level
    ``find_unused_parameters`` (mmdet3d's way to set it).

    Args:
        cfg (Config): Config with ``launcher`` set; modified in place.
    """
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return
    if cfg.get('env_cfg', None) is None:
        cfg.env_cfg = dict()
    if cfg.env_cfg.get('dist_cfg', None) is None:
        cfg.env_cfg.dist_cfg = dict()
    if cfg.env_cfg.dist_cfg.get('backend', 'nccl') == 'nccl':
        cfg.env_cfg.dist_cfg.backend = 'gloo'
        print_log('no CUDA device: distributed backend nccl -> gloo',
                  logger='current')
    if cfg.get('model_wrapper_cfg', None) is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg.setdefault('device_ids', None)
