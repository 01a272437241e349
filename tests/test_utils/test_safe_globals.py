"""Weights-only loading of mmengine checkpoint contents."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import distill3d  # noqa: F401


def test_mmengine_checkpoint_contents_load_weights_only(tmp_path):
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
    loaded = torch.load(path)  # torch's default: weights_only=True
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
def test_restricted_getattr_refuses_other_attributes(payload, tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'x': payload()}, path)
    with pytest.raises(pickle.UnpicklingError, match='refuses getattr'):
        torch.load(path)


def test_weights_only_still_rejects_unlisted_globals(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'x': pickle.PicklingError('not allow-listed')}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


def test_segmentation_meta_types_load_weights_only(tmp_path):
    """Cylinder3D checkpoints carry a ConfigDict and a Counter in meta."""
    import collections

    import torch
    from mmengine.config import ConfigDict
    meta = dict(dataset_meta=ConfigDict(classes=('car', ), max_label=259),
                counts=collections.Counter(car=3))
    path = str(tmp_path / 'seg.pth')
    torch.save(dict(meta=meta, state_dict={'w': torch.ones(2)}), path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['meta']['dataset_meta'].max_label == 259
    assert loaded['meta']['counts']['car'] == 3
