"""Distributed-launch helpers."""
import torch
from mmengine.config import Config
from mmengine.logging import print_log


def use_gloo_on_cpu(cfg: Config) -> None:
    """Switch a distributed run on a machine without GPUs to gloo.

    mmdet3d's default runtime asks for NCCL, which needs CUDA. Used by
    ``tools/train.py`` and ``tools/test.py`` after the launcher is set.

    Args:
        cfg (Config): Config with ``launcher`` set; modified in place.
    """
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
        print_log('no CUDA device: distributed backend nccl -> gloo',
                  logger='current')
