"""PointClassifier: the mmdet3d forward contract, parameter counts of the
FAD teacher / student configs, learning on CPU."""
import os.path as osp

import pytest
import torch

from cls_helpers import STUDENT_CPU, TEACHER_CPU, tiny_model_dict
from helpers import REPO


@pytest.fixture(autouse=True, scope='module')
def _scope():
    from mmdet3d.utils import register_all_modules
    register_all_modules()


def _batch(num=4, points=64, seed=0):
    from mmdet3d.structures import Det3DDataSample
    g = torch.Generator().manual_seed(seed)
    inputs = dict(points=[torch.randn(points, 6, generator=g)
                          for _ in range(num)])
    samples = []
    for i in range(num):
        s = Det3DDataSample()
        s.gt_label = torch.tensor([i % 3])
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('config,params', [
    (TEACHER_CPU, 1472552), (STUDENT_CPU, 36616),
    ('pointnet2_cls/pointnet2-ssg_1xb24-200e_modelnet40.py', 1472552),
    ('pointnet2_cls/pointnet2-ssg-40x_1xb24-200e_modelnet40.py', 36616)
])
def test_parameter_counts(config, params):
    """The counts stated in the configs and the README (40.2x)."""
    from mmengine.config import Config

    from mmdet3d.registry import MODELS
    model = MODELS.build(Config.fromfile(osp.join(REPO, 'configs',
                                                  config)).model)
    assert sum(p.numel() for p in model.parameters()) == params


def test_forward_modes():
    from mmdet3d.registry import MODELS
    model = MODELS.build(tiny_model_dict())
    data = model.data_preprocessor(_batch(), True)
    assert data['inputs']['points'].shape == (4, 64, 6)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'acc_cls'}
    assert losses['loss_cls'].requires_grad
    model.eval()
    logits = model(**data, mode='tensor')
    assert logits.shape == (4, 40)
    feat = model.extract_feat(data['inputs'])
    assert feat.shape == (4, 1024) and model.neck.out_channels == 1024
    preds = model(**data, mode='predict')
    assert preds[0].pred_score.shape == (40, )
    torch.testing.assert_close(preds[1].pred_score, logits[1].softmax(0))
    assert preds[1].pred_label.item() == logits[1].argmax().item()
    with pytest.raises(RuntimeError, match='Invalid mode'):
        model(**data, mode='features')


def test_preprocessor_rejects_ragged_batch():
    from distill3d.models.classifiers import PointClsDataPreprocessor
    batch = _batch()
    batch['inputs']['points'][1] = batch['inputs']['points'][1][:10]
    with pytest.raises(ValueError, match='ClsPointSample'):
        PointClsDataPreprocessor()(batch)


def test_student_overfits_a_batch():
    """A few Adam steps on one batch drive the training loss down."""
    from mmengine.optim import OptimWrapper

    from mmdet3d.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_dict(student=True))
    model.head.mlp[-1].p = 0.  # no dropout: a deterministic target
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-2))
    batch = _batch(num=6)
    first = model.train_step(batch, wrapper)['loss_cls'].item()
    for _ in range(30):
        last = model.train_step(batch, wrapper)['loss_cls'].item()
    assert last < 0.3 * first, (first, last)


@pytest.mark.parametrize('config,params,channels', [
    ('pointnet2_cls/pointnet2-msg_1xb24-200e_modelnet40.py', 1745288, 6),
    ('dgcnn_cls/dgcnn_1xb32-250e_modelnet40.py', 2333608, 3)
])
def test_msg_and_dgcnn_backbones_train_on_cpu(config, params, channels):
    """mmdet3d's PointNet2SAMSG and DGCNNBackbone (FPS, ball query, kNN in
    coordinate and feature space, grouping) run forward and backward on
    CPU through the CPU-support layer."""
    from mmengine.config import Config

    from mmdet3d.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, 'configs', config)).model
    if cfg.backbone.type == 'PointNet2SAMSG':
        cfg.backbone.num_points = (16, 4)
        cfg.backbone.num_samples = ((4, 4, 8), (4, 4, 8))
    else:
        cfg.backbone.num_samples = (4, 4, 4, 4)
    model = MODELS.build(cfg)
    assert sum(p.numel() for p in model.parameters()) == params
    batch = _batch(num=2, points=32)
    batch['inputs']['points'] = [p[:, :channels]
                                 for p in batch['inputs']['points']]
    data = model.data_preprocessor(batch, True)
    loss = model(**data, mode='loss')['loss_cls']
    loss.backward()
    grads = [p.grad for p in model.backbone.parameters()]
    assert all(g is not None for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0
