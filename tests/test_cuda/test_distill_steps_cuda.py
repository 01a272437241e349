"""One distillation step of each method on CUDA (mmcv's compiled kernels,
spconv's GPU algorithms), as on CPU in the other tests.

Marked ``cuda``: skipped without a GPU (CI has none); run with
``pytest -m cuda`` in a CUDA build of the environment.
"""
import pytest
import torch

import distill3d  # noqa: F401

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
]

PP = 'pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
PP_CONFIGS = [
    'distill/logit-kd_' + PP,
    'distill/fitnets_' + PP,
    'distill/cwd_' + PP,
    '../projects/PointDistiller/configs/pointdistiller_' + PP,
    '../projects/PointDistiller/configs/pointdistiller-bev_' + PP,
]


def _step(model, data):
    """Loss step on CUDA: finite losses, gradient on the student only."""
    model = model.cuda().train()
    data = model.data_preprocessor(data, True)
    losses = model(**data, mode='loss')
    kd = {k: v for k, v in losses.items() if k.startswith('loss_kd_')}
    assert kd, sorted(losses)
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss), losses
    loss.backward()
    grads = [p.grad for p in model.student.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    teacher = getattr(model, 'teacher', None)
    if teacher is not None and teacher is not model.student:
        assert all(p.grad is None for p in teacher.parameters())
    return kd


@pytest.mark.parametrize('config', PP_CONFIGS)
def test_pointpillars_distillation_step(config):
    from test_models.test_distillers.test_distiller3d import (batch, build,
                                                              pp_cfg)
    kd = _step(build(pp_cfg(config)), batch())
    assert all(torch.isfinite(v) for v in kd.values())


def test_fad_step():
    from test_models.test_distillers.test_adversarial_distiller import (
        _batch, _distiller, _optim)
    distiller = _distiller().cuda()
    distiller.train()
    log = distiller.train_step(_batch(), _optim(distiller))
    assert torch.isfinite(log['loss_kd_fad']) and 'disc_loss' in log
