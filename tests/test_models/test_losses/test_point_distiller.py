"""Unit properties of PointDistiller's loss (METHODS.md section 1)."""
import functools

import pytest
import torch

import distill3d  # noqa: F401
from distill3d.models.losses.point_distiller import (PointDistillerLoss,
                                                     chunked_knn,
                                                     importance_weights,
                                                     nodes_carrying)
from distill3d.models.recorders import Record


def _voxel_record(feats, counts, batch):
    m = feats.shape[0]
    coors = torch.zeros(m, 4, dtype=torch.int32)
    coors[:, 0] = batch
    coors[:, 3] = torch.arange(m)
    return Record(feats, 'voxel', coors=coors, num_points=counts)


def _records(m=40, c_s=8, c_t=16, seed=0, batch=None):
    gen = torch.Generator().manual_seed(seed)
    batch = torch.zeros(m, dtype=torch.int32) if batch is None else batch
    counts = torch.randint(1, 32, (m, ), generator=gen)
    s = torch.randn(m, c_s, generator=gen, requires_grad=True)
    t = torch.randn(m, c_t, generator=gen, requires_grad=True)
    return _voxel_record(s, counts, batch), _voxel_record(t, counts, batch)


def test_chunked_knn_equals_direct():
    gen = torch.Generator().manual_seed(0)
    q, p = torch.randn(300, 5, generator=gen), torch.randn(700, 5,
                                                           generator=gen)
    direct = torch.cdist(q, p).topk(7, largest=False).indices
    for chunk in (1, 64, 1000):
        assert torch.equal(chunked_knn(q, p, 7, chunk_size=chunk), direct)


def test_top_n_by_point_count_and_weights_sum_to_n():
    s_rec, t_rec = _records(m=50)
    loss = PointDistillerLoss(8, 16, num_nodes=10, k=4, tau=5.0)
    _, t_feat, batch, counts = loss.correspond(s_rec, t_rec)
    keep, weights = loss.select(loss.importance(t_feat, counts), batch)
    expected = torch.topk(counts.float(), 10).indices
    assert set(keep.tolist()) == set(expected.tolist())
    assert weights.sum().item() == pytest.approx(10.0, rel=1e-5)
    # more points, more weight
    order = torch.argsort(counts[keep], descending=True)
    assert torch.all(weights[order][:-1] >= weights[order][1:] - 1e-6)


def test_weights_sum_to_n_per_sample():
    batch = torch.tensor([0] * 30 + [1] * 20, dtype=torch.int32)
    s_rec, t_rec = _records(m=50, batch=batch)
    loss = PointDistillerLoss(8, 16, num_nodes=12, k=4)
    _, t_feat, b, counts = loss.correspond(s_rec, t_rec)
    keep, weights = loss.select(loss.importance(t_feat, counts), b)
    for sample in (0, 1):
        sel = b[keep] == sample
        assert sel.sum() == 12
        assert weights[sel].sum().item() == pytest.approx(12.0, rel=1e-5)


@pytest.mark.parametrize('scope', ['sample', 'batch'])
def test_every_node_is_its_own_neighbour(scope):
    batch = torch.tensor([0] * 25 + [1] * 25, dtype=torch.int32)
    s_rec, t_rec = _records(m=50, batch=batch)
    loss = PointDistillerLoss(8, 16, num_nodes=10, k=5, graph_scope=scope)
    _, t_feat, b, counts = loss.correspond(s_rec, t_rec)
    keep, _ = loss.select(loss.importance(t_feat, counts), b)
    nbrs = loss.neighbours(t_feat, b, keep)
    assert nbrs.shape == (20, 5)
    assert torch.equal(nbrs[:, 0], keep)  # distance 0 comes first
    if scope == 'sample':
        assert torch.equal(b[nbrs], b[keep][:, None].expand_as(nbrs))


def test_gradients_reach_both_adapters_and_student_not_teacher():
    s_rec, t_rec = _records()
    loss = PointDistillerLoss(8, 16, num_nodes=20, k=6)
    value = loss(s_rec, t_rec)
    value.backward()
    assert value.item() > 0
    assert s_rec.tensor.grad is not None and s_rec.tensor.grad.abs().sum() > 0
    assert t_rec.tensor.grad is None
    for adapter in (loss.student_adapter, loss.teacher_adapter):
        assert adapter.conv.weight.grad is not None
        assert adapter.conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('aggregate', ['max', 'none'])
@pytest.mark.parametrize('edge', ['sub', 'cat'])
def test_zero_when_features_and_adapters_are_identical(edge, aggregate):
    s_rec, _ = _records(c_s=8)
    t_rec = Record(s_rec.tensor.detach().clone(), 'voxel',
                   coors=s_rec.coors, num_points=s_rec.num_points)
    loss = PointDistillerLoss(8, 8, num_nodes=20, k=6, edge=edge,
                              aggregate=aggregate)
    loss.teacher_adapter.load_state_dict(loss.student_adapter.state_dict())
    assert loss(s_rec, t_rec).item() == pytest.approx(0.0, abs=1e-10)


def test_dense_bev_records_use_max_response():
    gen = torch.Generator().manual_seed(3)
    s = Record(torch.randn(2, 4, 6, 5, generator=gen), 'dense')
    t = Record(torch.randn(2, 8, 6, 5, generator=gen), 'dense')
    loss = PointDistillerLoss(4, 8, num_nodes=7, k=3)
    _, t_feat, b, counts = loss.correspond(s, t)
    assert counts is None and t_feat.shape == (60, 8)
    keep, weights = loss.select(loss.importance(t_feat, counts), b)
    for sample in (0, 1):
        rows = torch.nonzero(b == sample).squeeze(1)
        top = rows[torch.topk(t_feat[rows].max(1).values, 7).indices]
        assert set(keep[b[keep] == sample].tolist()) == set(top.tolist())
    assert torch.isfinite(loss(s, t))


def test_different_voxelization_matched_by_coordinate_and_nearest():
    """The student grid is coarser: pillars match by nearest centre."""
    t_coors = torch.tensor([[0, 0, y, x] for y in range(4)
                            for x in range(4)], dtype=torch.int32)
    s_coors = torch.tensor([[0, 0, y, x] for y in range(2)
                            for x in range(2)], dtype=torch.int32)
    gen = torch.Generator().manual_seed(0)
    t = Record(torch.randn(16, 6, generator=gen), 'voxel', coors=t_coors,
               num_points=torch.arange(1, 17))
    s = Record(torch.randn(4, 3, generator=gen), 'voxel', coors=s_coors,
               num_points=torch.ones(4, dtype=torch.long))
    loss = PointDistillerLoss(
        3, 6, num_nodes=4, k=2, match='nearest',
        student_voxel=dict(voxel_size=[2.0, 2.0, 4.0],
                           point_cloud_range=[0, 0, -3, 4, 4, 1]),
        teacher_voxel=dict(voxel_size=[1.0, 1.0, 4.0],
                           point_cloud_range=[0, 0, -3, 4, 4, 1]))
    s_feat, t_feat, _, counts = loss.correspond(s, t)
    # student centre (1, 1) is equidistant to 4 teacher centres; any of
    # them is within half a student voxel
    s_xyz = s_coors[:, [3, 2]].float() * 2 + 1
    matched = [torch.nonzero((t.tensor == row).all(1))[0, 0]
               for row in t_feat]
    t_xyz = t_coors[torch.stack(matched)][:, [3, 2]].float() + 0.5
    assert torch.all((s_xyz - t_xyz).norm(dim=1) <= 0.75)
    assert torch.isfinite(loss(s, t))
    with pytest.raises(ValueError, match='nodes'):
        PointDistillerLoss(3, 6, num_nodes=4, k=2)(s, t)
    # same grid, reordered: 'coors' pairs the same pillars
    perm = torch.randperm(16, generator=gen)
    t2 = Record(t.tensor[perm], 'voxel', coors=t_coors[perm],
                num_points=t.num_points[perm])
    loss_c = PointDistillerLoss(6, 6, num_nodes=5, k=3, match='coors')
    s_f, t_f, _, _ = loss_c.correspond(t, t2)
    assert torch.equal(s_f, t_f)


# --- reweighting (issue 12): the paper's softmax collapses on sparse scans,
# 'power' and 'rank' spread the weight alike on any point density ---


def _sparse_and_dense_counts():
    """Pillar point counts like a 32-beam synthetic scan (median 1, one
    pillar at the cap) and like a 64-beam KITTI scan (many at the cap)."""
    gen = torch.Generator().manual_seed(0)
    sparse = 1 + torch.poisson(torch.full((1000, ), 0.8), generator=gen)
    sparse[0] = 32
    dense = (2 + torch.poisson(torch.full((1000, ), 6.0), generator=gen))
    dense[:60] = 32  # at the voxelizer's cap
    return sparse.clamp(max=32), dense.clamp(max=32)


def test_paper_weights_collapse_on_sparse_counts():
    sparse, dense = _sparse_and_dense_counts()
    w = importance_weights(sparse, 'softmax', 0.01)
    assert w.sum().item() == pytest.approx(1000, rel=1e-4)
    assert nodes_carrying(w, 0.9) == 1  # one pillar takes it all
    # on dense scans the capped pillars share it equally
    w_dense = importance_weights(dense, 'softmax', 0.01)
    assert nodes_carrying(w_dense, 0.9) == 54  # ceil(0.9 * 60)


@pytest.mark.parametrize('weighting,tau', [('power', 1.0), ('rank', 0.25)])
def test_new_weights_spread_alike_on_any_density(weighting, tau):
    sparse, dense = _sparse_and_dense_counts()
    n_sparse = nodes_carrying(importance_weights(sparse, weighting, tau))
    n_dense = nodes_carrying(importance_weights(dense, weighting, tau))
    assert 200 < n_sparse < 950 and 200 < n_dense < 950
    assert abs(n_sparse - n_dense) < 350
    # more points, more weight; weights sum to N
    w = importance_weights(sparse, weighting, tau)
    order = torch.argsort(sparse, descending=True)
    assert torch.all(w[order][:-1] >= w[order][1:] - 1e-5)
    assert w.sum().item() == pytest.approx(1000, rel=1e-4)


def test_power_weight_is_share_of_points():
    counts = torch.tensor([1., 2., 3., 10.])
    w = importance_weights(counts, 'power', 1.0)
    assert torch.allclose(w, 4 * counts / counts.sum())
    assert nodes_carrying(torch.tensor([5., 3., 1., 1.]), 0.8) == 2
    assert nodes_carrying(torch.tensor([5., 3., 1., 1.]), 0.81) == 3


def test_unknown_weighting_names_the_choices():
    with pytest.raises(ValueError, match='weighting'):
        PointDistillerLoss(8, 16, weighting='linear')


def test_loss_logs_effective_node_count():
    s_rec, t_rec = _records(m=60)
    loss = PointDistillerLoss(8, 16, num_nodes=40, k=4, weighting='power',
                              tau=1.0)
    loss(s_rec, t_rec)
    counts = t_rec.num_points.float()
    top = torch.topk(counts, 40).values
    expected = nodes_carrying(40 * top / top.sum(), 0.9)
    assert loss.log_vars['n90'].item() == expected


def test_batch_selection_matches_release():
    """selection='batch': top N of the whole batch, one softmax across it
    (the released pillar path), against a direct computation."""
    batch = torch.tensor([0] * 30 + [1] * 20, dtype=torch.int32)
    s_rec, t_rec = _records(m=50, batch=batch, seed=4)
    loss = PointDistillerLoss(8, 16, num_nodes=24, k=4, tau=5.0,
                              selection='batch', graph_scope='batch')
    _, t_feat, b, counts = loss.correspond(s_rec, t_rec)
    keep, weights = loss.select(loss.importance(t_feat, counts), b)
    top = torch.topk(counts.float(), 24).indices
    assert set(keep.tolist()) == set(top.tolist())
    direct = 24 * torch.softmax(counts[keep].float() / 5.0, 0)
    assert torch.allclose(weights, direct, atol=1e-5)
    assert weights.sum().item() == pytest.approx(24, rel=1e-5)
    # unlike the per-sample selection, samples need not keep equal shares
    per_sample = PointDistillerLoss(8, 16, num_nodes=12, k=4, tau=5.0)
    keep_s, w_s = per_sample.select(counts.float(), b)
    assert w_s[b[keep_s] == 0].sum().item() == pytest.approx(12, rel=1e-5)
    # the loss runs with the release's other switches too
    release = PointDistillerLoss(8, 16, num_nodes=24, k=4, tau=0.01,
                                 selection='batch', graph_scope='batch',
                                 edge='cat', aggregate='none',
                                 loss_weight=2.0)
    assert torch.isfinite(release(s_rec, t_rec))


@functools.lru_cache(maxsize=None)  # deterministic; two tests share it
def _adapters_only_loss(teacher_adapter: str, steps: int = 300) -> tuple:
    """Train only the adapters on student features that carry nothing of
    the teacher's (independent random features); return the loss before
    and after."""
    torch.manual_seed(0)
    s_rec, t_rec = _records(m=64, c_s=8, c_t=16, seed=1)
    s_rec.tensor.requires_grad_(False)
    loss = PointDistillerLoss(8, 16, num_nodes=32, k=8, weighting='power',
                              tau=1.0, teacher_adapter=teacher_adapter)
    params = [p for p in loss.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=0.01)
    first = None
    for _ in range(steps):
        value = loss(s_rec, t_rec)
        first = value.item() if first is None else first
        opt.zero_grad()
        value.backward()
        opt.step()
    return first, loss(s_rec, t_rec).item()


def test_trained_teacher_adapter_lets_the_loss_vanish_without_knowledge():
    """The diagnosis behind the study's inert terms: with a trainable
    teacher-side adapter (paper, release) the two adapters find a
    projection in which even unrelated student features match the
    teacher's, so the loss falls towards 0 without the student learning
    anything; a frozen teacher adapter keeps a target the student adapter
    cannot match from unrelated features."""
    first_t, last_t = _adapters_only_loss('trained')
    first_f, last_f = _adapters_only_loss('frozen')
    # measured: 1.16 -> 5e-6 (trained) and 1.16 -> 0.31 (frozen)
    assert last_t < 1e-3 * first_t, (first_t, last_t)
    assert last_f > 0.1 * first_f, (first_f, last_f)
    assert last_f > 1000 * last_t


def test_frozen_teacher_adapter_gets_no_gradient():
    s_rec, t_rec = _records()
    loss = PointDistillerLoss(8, 16, num_nodes=20, k=6,
                              teacher_adapter='frozen')
    loss(s_rec, t_rec).backward()
    assert loss.student_adapter.conv.weight.grad.abs().sum() > 0
    assert loss.teacher_adapter.conv.weight.grad is None
    assert not any(p.requires_grad
                   for p in loss.teacher_adapter.parameters())
    with pytest.raises(ValueError, match='teacher_adapter'):
        PointDistillerLoss(8, 16, teacher_adapter='fixed')


def test_teacher_adapter_none_targets_the_teachers_own_edge_features():
    """'none': the target is concat(F_j - F_q, F_q) of the teacher, with
    no parameters on the teacher side; it cannot fall towards what
    unrelated student features reproduce."""
    from distill3d.models.losses.point_distiller import \
        teacher_edge_features
    feats = torch.tensor([[0., 1.], [2., 5.], [1., -1.]])
    centre = torch.tensor([0, 2])
    nbrs = torch.tensor([[0, 1], [2, 0]])
    got = teacher_edge_features(feats, centre, nbrs, 'sub', 'max')
    # node 0: max(F_j - F_0) over j in {0, 1} = (2, 4), then F_0
    # node 2: max over j in {2, 0} of F_j - F_2 = max((0,0), (-1,2))
    expected = torch.tensor([[2., 4., 0., 1.], [0., 2., 1., -1.]])
    assert torch.equal(got, expected)
    per_edge = teacher_edge_features(feats, centre, nbrs, 'cat', 'none')
    assert per_edge.shape == (2, 2, 4)
    assert torch.equal(per_edge[1, 1], torch.tensor([0., 1., 1., -1.]))

    loss = PointDistillerLoss(8, 16, num_nodes=20, k=6,
                              teacher_adapter='none')
    assert loss.teacher_adapter is None
    assert loss.student_adapter.conv.out_channels == 32
    s_rec, t_rec = _records()
    loss(s_rec, t_rec).backward()
    assert loss.student_adapter.conv.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='2 \\* 16'):
        PointDistillerLoss(8, 16, out_channels=8, teacher_adapter='none')
    first, last = _adapters_only_loss('none')
    first_t, last_t = _adapters_only_loss('trained')
    assert last > 0.1 * first, (first, last)
    assert last > 1000 * last_t


def test_teacher_context_score_keeps_the_teachers_confident_pixels():
    """score='teacher_context': nodes are the pixels where the teacher's
    classification map is most confident, weighted in proportion to that
    confidence (weighting='power', tau=1)."""
    gen = torch.Generator().manual_seed(5)
    s = Record(torch.randn(2, 4, 6, 5, generator=gen), 'dense')
    t = Record(torch.randn(2, 8, 6, 5, generator=gen), 'dense')
    cls_logits = torch.randn(2, 6, 6, 5, generator=gen)
    loss = PointDistillerLoss(4, 8, num_nodes=7, k=3, weighting='power',
                              tau=1.0, score='teacher_context')
    assert loss.takes_context
    assert not PointDistillerLoss(4, 8).takes_context
    _, t_feat, b, counts = loss.correspond(s, t)
    conf = torch.sigmoid(cls_logits).amax(1).reshape(-1)  # (B*H*W, )
    score = loss.importance(t_feat, counts, t, [cls_logits])
    assert torch.allclose(score, conf)
    keep, weights = loss.select(score, b)
    for sample in (0, 1):
        rows = torch.nonzero(b == sample).squeeze(1)
        top = rows[torch.topk(conf[rows], 7).indices]
        kept = keep[b[keep] == sample]
        assert set(kept.tolist()) == set(top.tolist())
        w = weights[b[keep] == sample]
        assert torch.allclose(w, 7 * conf[kept] / conf[kept].sum())
    value = loss(s, t, context=[cls_logits])
    assert torch.isfinite(value) and value > 0
    with pytest.raises(ValueError, match='teacher_context'):
        loss(s, t)
    s_vox, t_vox = _records()
    with pytest.raises(ValueError, match='dense'):
        PointDistillerLoss(8, 16, score='teacher_context')(
            s_vox, t_vox, context=[cls_logits])


@pytest.mark.parametrize('config', [
    'projects/PointDistiller/configs/pointdistiller-bev-teacher-conf_'
    'pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py',
    'configs/distill/fitnets-masked_pointpillars-4x_1xb2-cpu_synthetic-'
    'kitti-3d-3class.py'
])
def test_teacher_confident_terms_read_pointpillars_conv_cls(config):
    """Both object-focused PointPillars terms get the teacher's anchor
    classification map through the real distiller and model."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from distill3d.engine import build_distill_cfg
    from helpers import REPO
    from mmdet3d.registry import MODELS
    from test_models.test_distillers.test_distiller3d import batch, points
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.teacher_ckpt = None
    init_default_scope('mmdet3d')
    torch.manual_seed(0)
    model = MODELS.build(build_distill_cfg(cfg).model)
    model.train()
    name = next(iter(model.distill_losses))
    term = model.distill_losses[name]
    seen = {}
    if isinstance(term, PointDistillerLoss):
        term.k = 4
        importance = term.importance

        def spy(t_feat, counts, t_rec=None, context=None):
            seen['context'] = context
            return importance(t_feat, counts, t_rec, context)

        term.importance = spy
    else:
        term.threshold = 0.0  # an untrained teacher is not confident
        forward = term.forward

        def spy(student, teacher, context):
            seen['context'] = context
            return forward(student, teacher, context)

        term.forward = spy
    data = batch([points(3000, x=(0., 40.))])
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    value = losses[name]
    assert torch.isfinite(value) and value > 0
    (context, ) = seen['context']
    cls = model.teacher.bbox_head.conv_cls
    assert context.shape[1] == cls.out_channels  # (B, A*C, H, W)
    value.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.student.backbone.parameters())


def test_pointdistiller_logit_kd_config_has_both_study_terms():
    """The study's combined row (PointDistiller + logit KD) trains both
    terms at the weights of their own rows, through the real distiller."""
    from test_models.test_distillers.test_distiller3d import (batch, build,
                                                              points, pp_cfg)
    pd = '../projects/PointDistiller/configs/'
    suffix = 'pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
    both = pp_cfg(pd + 'pointdistiller-logit-kd_' + suffix)
    alone = pp_cfg(pd + 'pointdistiller_' + suffix).distill_losses
    logit = pp_cfg('distill/logit-kd_' + suffix).distill_losses
    assert set(both.distill_losses) == {'loss_kd_pointdistiller',
                                        'loss_kd_cls'}
    assert both.distill_losses.loss_kd_pointdistiller == \
        alone.loss_kd_pointdistiller
    assert both.distill_losses.loss_kd_cls == logit.loss_kd_cls
    model = build(both)
    model.train()
    losses = model(
        **model.data_preprocessor(batch([points(3000)]), True), mode='loss')
    for name in ('loss_kd_pointdistiller', 'loss_kd_cls'):
        assert torch.isfinite(losses[name]) and losses[name] > 0
