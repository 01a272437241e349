import torch
from mmengine.config import Config

from distill3d.utils import use_gloo_on_cpu


def test_cpu_distributed_config_uses_gloo_and_no_device_ids():
    cfg = Config(
        dict(
            launcher='pytorch',
            env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    use_gloo_on_cpu(cfg)
    if torch.cuda.is_available():
        assert cfg.env_cfg.dist_cfg.backend == 'nccl'
        return
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'
    assert cfg.model_wrapper_cfg.device_ids is None


def test_non_distributed_config_is_untouched():
    cfg = Config(dict(launcher='none'))
    use_gloo_on_cpu(cfg)
    assert 'model_wrapper_cfg' not in cfg and 'env_cfg' not in cfg
