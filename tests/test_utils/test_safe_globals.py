"""Weights-only loading of mmengine checkpoint contents.

Each test runs with every way distill3d reads a checkpoint weights-only:
torch's own default (torch >= 2.6, with the allow-list registered),
:func:`load_weights_only`, and the restricted pickle module that
``load_weights_only`` uses on torch < 2.4 (tested here on any torch).
"""
import pickle
from functools import partial

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import distill3d  # noqa: F401
from distill3d.utils.safe_globals import load_weights_only, restricted_pickle

_TORCH_DEFAULT_WEIGHTS_ONLY = hasattr(torch.serialization,
                                      'add_safe_globals') and \
    tuple(int(v) for v in torch.__version__.split('.')[:2]) >= (2, 6)


@pytest.fixture(params=['torch default', 'load_weights_only',
                        'restricted pickle'])
def load(request):
    if request.param == 'torch default':
        if not _TORCH_DEFAULT_WEIGHTS_ONLY:
            pytest.skip(f'torch {torch.__version__} loads unrestricted by '
                        'default')
        return torch.load
    if request.param == 'load_weights_only':
        return load_weights_only
    return partial(torch.load, pickle_module=restricted_pickle,
                   weights_only=False)


def test_mmengine_checkpoint_contents_load_weights_only(load, tmp_path):
    hub = MessageHub.get_instance('distill3d_test_safe_globals')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', 0.5)
    ckpt = dict(
        meta=dict(
            seed=np.int64(3),
            dataset_meta=dict(
                classes=('Car', ),
                bbox_range=np.array([1.0, 2.0], dtype=np.float32),
                counts=np.arange(4),
                ratio=np.float64(0.25))),
        message_hub=hub.state_dict(),
        state_dict=dict(w=torch.ones(2)))
    path = tmp_path / 'ckpt.pth'
    torch.save(ckpt, path)
    loaded = load(path)
    meta = loaded['meta']['dataset_meta']
    assert np.array_equal(meta['counts'], np.arange(4))
    assert meta['bbox_range'].dtype == np.float32
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.mean() == pytest.approx(1.0)


class _GetattrOnOtherName:
    """Pickles as getattr(HistoryBuffer, '__init__'): must be refused."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


class _GetattrOnOtherObject:
    """Pickles as getattr(numpy.ndarray, 'min'): must be refused."""

    def __reduce__(self):
        return getattr, (np.ndarray, 'min')


@pytest.mark.parametrize('payload',
                         [_GetattrOnOtherName, _GetattrOnOtherObject])
def test_restricted_getattr_refuses_other_attributes(payload, load,
                                                     tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'x': payload()}, path)
    with pytest.raises(pickle.UnpicklingError, match='refuses getattr'):
        load(path)


class _RunsCode:
    """Unpickling this would run ``os.system``."""

    def __reduce__(self):
        import os
        return os.system, ('true', )


@pytest.mark.parametrize('payload', [
    lambda: pickle.PicklingError('not allow-listed'), _RunsCode
])
def test_weights_only_still_rejects_unlisted_globals(payload, load,
                                                     tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'x': payload()}, path)
    with pytest.raises(pickle.UnpicklingError):
        load(path)


def test_segmentation_meta_types_load_weights_only(load, tmp_path):
    """Cylinder3D checkpoints carry a ConfigDict and a Counter in meta."""
    import collections

    import torch
    from mmengine.config import ConfigDict
    meta = dict(dataset_meta=ConfigDict(classes=('car', ), max_label=259),
                counts=collections.Counter(car=3))
    path = str(tmp_path / 'seg.pth')
    torch.save(dict(meta=meta, state_dict={'w': torch.ones(2)}), path)
    loaded = load(path)
    assert loaded['meta']['dataset_meta'].max_label == 259
    assert loaded['meta']['counts']['car'] == 3
