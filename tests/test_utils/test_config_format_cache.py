"""mmengine's ``Config.pretty_text`` through distill3d's yapf memo: the same
text as without it, formatted once per distinct config, and a Runner run
formats its config once instead of at every use."""
from unittest import mock

import torch
from mmengine.config import Config
from mmengine.config import config as config_module
from mmengine.dataset import DefaultSampler  # noqa: F401  (registered)
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, MODELS
from mmengine.runner import Runner
from torch.utils.data import Dataset

import distill3d  # noqa: F401  (installs the memo)
from distill3d.utils.config_format_cache import (STATS,
                                                 enable_config_format_cache)
from helpers import config_path

PILLARS = 'pointpillars/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-' \
    '3class.py'


def test_memo_gives_mmengines_text_and_formats_each_text_once():
    assert getattr(config_module.FormatCode, 'distill3d_memo', False)
    assert not enable_config_format_cache()  # installed once only
    cfg = Config.fromfile(config_path(PILLARS))
    with mock.patch.object(config_module, 'FormatCode',
                           config_module.FormatCode.__wrapped__):
        expected = cfg.pretty_text  # yapf itself, no memo
    misses, hits = STATS['misses'], STATS['hits']
    assert cfg.pretty_text == expected
    assert cfg.pretty_text == expected
    assert STATS['hits'] - hits >= 1 and STATS['misses'] - misses <= 1
    # another value is another text: formatted, not served from the memo
    cfg.train_dataloader.batch_size = 7
    misses = STATS['misses']
    text = cfg.pretty_text
    assert STATS['misses'] == misses + 1
    assert 'batch_size=7' in text and text != expected
    # the earlier text is not touched, and the new one is valid Python
    assert 'batch_size=7' not in expected
    compile(text, 'config.py', 'exec')


class _Points(Dataset):
    """Eight samples of a toy regression."""

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        x = torch.full((3, ), float(idx))
        return dict(inputs=x, target=x.sum())


class _Linear(BaseModel):
    """A linear model with mmengine's BaseModel interface."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 1)

    def forward(self, inputs, target=None, mode='tensor'):
        out = self.fc(torch.stack(inputs) if isinstance(inputs, list) else
                      inputs).squeeze(-1)
        if mode == 'loss':
            target = torch.stack(target) if isinstance(target, list) \
                else target
            return dict(loss=((out - target)**2).mean())
        return out


def test_runner_formats_its_config_once(tmp_path):
    DATASETS.register_module(name='FormatCacheToyPoints', module=_Points,
                             force=True)
    MODELS.register_module(name='FormatCacheToyLinear', module=_Linear,
                           force=True)
    cfg = Config(
        dict(
            model=dict(type='FormatCacheToyLinear'),
            work_dir=str(tmp_path),
            train_dataloader=dict(
                dataset=dict(type='FormatCacheToyPoints'),
                sampler=dict(type='DefaultSampler', shuffle=False),
                batch_size=4,
                num_workers=0),
            train_cfg=dict(by_epoch=True, max_epochs=2),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
            default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                               interval=1)),
            default_scope='mmengine',
            env_cfg=dict(dist_cfg=dict(backend='gloo')),
            log_level='WARNING'))
    misses, hits = STATS['misses'], STATS['hits']
    runner = Runner.from_cfg(cfg)
    runner.train()
    # the environment log, the config dump, RuntimeInfoHook and two
    # checkpoints ask for pretty_text; yapf runs for the first one only
    assert STATS['misses'] - misses == 1
    assert STATS['hits'] - hits >= 4
    saved = torch.load(tmp_path / 'epoch_2.pth', weights_only=False)
    assert saved['meta']['cfg'] == runner.cfg.pretty_text
