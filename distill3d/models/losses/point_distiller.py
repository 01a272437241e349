"""PointDistiller (Zhang et al., CVPR 2023): local graph distillation with
reweighting, for voxel / pillar features, dense BEV maps and point features.

The whole method is in this file: node extraction from records, importance
scores, top-N selection, memory-bounded kNN in the teacher's feature space,
EdgeConv adapters per side and the reweighted MSE. Defaults follow the
paper; the released code's choices are switches (see ``PointDistillerLoss``).
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet3d.registry import MODELS
from torch import Tensor, nn

from ..recorders import Record, match_rows
from .utils import fp32, teacher_confidence


def chunked_knn(query: Tensor,
                candidates: Tensor,
                k: int,
                chunk_size: int = 1024) -> Tensor:
    """K nearest candidates of each query by squared Euclidean distance.

    Only a (chunk_size, P) block of the (Q, P) distance matrix exists at a
    time, so memory is bounded by ``chunk_size * P`` however large Q is.

    Args:
        query (Tensor): (Q, C) query features.
        candidates (Tensor): (P, C) candidate features.
        k (int): Neighbours per query (at most P).
        chunk_size (int): Queries per block. Defaults to 1024.

    Returns:
        Tensor: (Q, k) long indices into ``candidates``, nearest first.
    """
    k = min(k, candidates.shape[0])
    out = query.new_empty((query.shape[0], k), dtype=torch.long)
    cand_sq = (candidates * candidates).sum(-1)
    for start in range(0, query.shape[0], chunk_size):
        q = query[start:start + chunk_size]
        dist = (q * q).sum(-1, keepdim=True) - 2 * q @ candidates.t() + \
            cand_sq[None]
        out[start:start + chunk_size] = torch.topk(
            dist, k, dim=1, largest=False).indices
    return out


def record_nodes(rec: Record) -> Tuple[Tensor, Tensor]:
    """Graph nodes of a record: one feature row per voxel / pixel / point.

    Args:
        rec (Record): A 'voxel', 'sparse', 'dense' or 'points' record.

    Returns:
        tuple[Tensor, Tensor]: features (M, C) and batch index (M, ).
    """
    x = rec.tensor
    if rec.kind in ('voxel', 'sparse'):
        return x, rec.coors[:, 0].long()
    if rec.kind in ('dense', 'points'):
        b, c = x.shape[:2]
        feats = x.reshape(b, c, -1).transpose(1, 2).reshape(-1, c)
        per = feats.shape[0] // max(b, 1)
        batch = torch.arange(b, device=x.device).repeat_interleave(per)
        return feats, batch
    raise ValueError(f'PointDistiller needs voxel, sparse, dense or points '
                     f'records, got {rec.kind!r}')


def voxel_centres(coors: Tensor, voxel_size: Sequence[float],
                  point_cloud_range: Sequence[float]) -> Tensor:
    """(M, 3) metric centres of voxels with (batch, z, y, x) coordinates."""
    size = coors.new_tensor(voxel_size, dtype=torch.float32)
    low = coors.new_tensor(point_cloud_range[:3], dtype=torch.float32)
    xyz = coors[:, [3, 2, 1]].float()
    return low + (xyz + 0.5) * size


WEIGHTINGS = ('softmax', 'power', 'rank')
SCORES = ('auto', 'count', 'max_response', 'teacher_context')


def importance_weights(score: Tensor, weighting: str = 'softmax',
                       tau: float = 0.01) -> Tensor:
    """Weights of the kept nodes of one group; they sum to its size N.

    Args:
        score (Tensor): (N, ) importance of the kept nodes (point counts
            or the teacher's max response).
        weighting (str): How scores become weights:

            - ``'softmax'`` (paper): ``N * softmax(score / tau)``. With point
              counts and ``tau=0.01`` the weight goes to the pillars with
              the largest count: shared by the pillars at the voxelizer's
              point cap on dense 64-beam scans, one pillar on sparse scans.
            - ``'power'``: ``N * s^(1/tau) / sum(s^(1/tau))`` with
              ``s = max(score, 0)``, i.e. ``N * softmax(log(s) / tau)``.
              ``tau=1`` weighs a pillar by its share of the points (each
              point counts once); it does not depend on the scan's
              density, so it behaves alike on any beam count.
            - ``'rank'``: ``N * softmax(-rank / (tau * N))``, rank 0 for the
              most important node: the weight decays by e every
              ``tau * N`` ranks, whatever the score scale.
        tau (float): Temperature of the chosen weighting.

    Returns:
        Tensor: (N, ) weights summing to N.
    """
    n = score.numel()
    if n == 0:
        return score.new_zeros(0)
    score = score.float()
    if weighting == 'softmax':
        logits = score / tau
    elif weighting == 'power':
        logits = torch.log(score.clamp_min(1e-6)) / tau
    elif weighting == 'rank':
        rank = torch.empty_like(score)
        rank[torch.argsort(score, descending=True)] = torch.arange(
            n, device=score.device, dtype=score.dtype)
        logits = -rank / (tau * n)
    else:
        raise ValueError(f'weighting must be one of {WEIGHTINGS}, got '
                         f'{weighting!r}')
    return n * torch.softmax(logits, 0)


def nodes_carrying(weights: Tensor, share: float = 0.9) -> int:
    """Smallest number of nodes whose weights add up to ``share`` of all."""
    if weights.numel() == 0:
        return 0
    ordered = torch.sort(weights.detach().float(), descending=True).values
    cum = torch.cumsum(ordered, 0) / ordered.sum().clamp_min(1e-12)
    target = torch.tensor(share - 1e-6, dtype=cum.dtype, device=cum.device)
    return int(torch.searchsorted(cum, target).item()) + 1


class EdgeConvAdapter(nn.Module):
    """DGCNN EdgeConv: edge features -> 1x1 conv + BN + ReLU -> aggregate.

    Args:
        in_channels (int): Node feature width C.
        out_channels (int): Common width C'.
        edge (str): 'sub' for concat(F_j - F_q, F_q) (paper, DGCNN) or 'cat'
            for concat(F_j, F_q) (released code's default).
        aggregate (str): 'max' over the K neighbours (EdgeConv; default) or
            'none' to compare per edge (released pillar path).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 edge: str = 'sub',
                 aggregate: str = 'max'):
        super().__init__()
        if edge not in ('sub', 'cat'):
            raise ValueError(f"edge must be 'sub' or 'cat', got {edge!r}")
        if aggregate not in ('max', 'none'):
            raise ValueError("aggregate must be 'max' or 'none', got "
                             f'{aggregate!r}')
        self.edge = edge
        self.aggregate = aggregate
        self.conv = nn.Conv2d(2 * in_channels, out_channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, feats: Tensor, centre: Tensor,
                neighbours: Tensor) -> Tensor:
        """Graph features of the kept nodes.

        Args:
            feats (Tensor): (M, C) all node features of the batch.
            centre (Tensor): (N, ) indices of the kept nodes.
            neighbours (Tensor): (N, K) indices of their neighbours.

        Returns:
            Tensor: (N, C') with 'max', or (N, K, C') with 'none'.
        """
        f_q = feats[centre][:, None, :].expand(-1, neighbours.shape[1], -1)
        f_j = feats[neighbours]
        first = f_j - f_q if self.edge == 'sub' else f_j
        edges = torch.cat([first, f_q], dim=-1)  # N, K, 2C
        x = edges.permute(2, 0, 1).unsqueeze(0)  # 1, 2C, N, K
        x = F.relu(self.bn(self.conv(x)), inplace=True)[0]  # C', N, K
        x = x.permute(1, 2, 0)  # N, K, C'
        return x.max(dim=1).values if self.aggregate == 'max' else x


def teacher_edge_features(feats: Tensor, centre: Tensor, neighbours: Tensor,
                          edge: str = 'sub',
                          aggregate: str = 'max') -> Tensor:
    """The teacher's edge features without a learnt projection.

    Args:
        feats (Tensor): (M, C) all node features of the batch.
        centre (Tensor): (N, ) indices of the kept nodes.
        neighbours (Tensor): (N, K) indices of their neighbours.
        edge (str): 'sub' (``F_j - F_q``) or 'cat' (``F_j``), as in
            :class:`EdgeConvAdapter`.
        aggregate (str): 'max' over the K neighbours or 'none'.

    Returns:
        Tensor: (N, 2C) with 'max', or (N, K, 2C) with 'none'.
    """
    f_q = feats[centre][:, None, :].expand(-1, neighbours.shape[1], -1)
    f_j = feats[neighbours]
    first = f_j - f_q if edge == 'sub' else f_j
    edges = torch.cat([first, f_q], dim=-1)  # N, K, 2C
    return edges.max(dim=1).values if aggregate == 'max' else edges


@MODELS.register_module()
class PointDistillerLoss(nn.Module):
    """PointDistiller's local distillation with reweighted learning.

    Per sample: the importance of each node is its point count (voxel
    records with ``num_points``, ``score='count'``) or the teacher's maximum
    response over channels (``score='max_response'``; BEV maps and
    points); the top ``num_nodes`` nodes are kept; each kept node q gets
    its ``k`` nearest nodes (q itself included) in the teacher's feature
    space, searched within its sample (``graph_scope='sample'``, paper) or
    the whole batch (``'batch'``, released code), and the same neighbour
    indices are used on both sides. Each side's EdgeConv adapter maps its
    edges to a common width, and

        L = loss_weight * mean_q( w_q * mean_c (G_T(q) - G_S(q))^2 ),
        w = N * softmax(score / tau) over the kept nodes of the sample,

    so the weights of a sample sum to N (``weighting='softmax'``, the
    paper's; ``'power'`` and ``'rank'`` spread the weight the same way on
    any point density, see :func:`importance_weights`). Teacher features
    are detached; both adapters train with the student and are dropped at
    export. The released code's loss is twice this (use
    ``loss_weight=2``), and it keeps the top N pillars of the *whole batch*
    with one softmax across the batch (``selection='batch'``).

    After each call, :attr:`log_vars` holds ``n90`` (mean over groups of
    the number of kept nodes that carry 90% of the weight) and ``w_max``
    (largest weight), which :class:`Distiller3D` logs next to the loss.

    When student and teacher voxelize differently, nodes are matched by
    voxel coordinate (``match='coors'``) or each student voxel takes the
    teacher voxel nearest to its centre (``match='nearest'``, which needs
    both voxel grids).

    Args:
        student_channels (int): Student feature width (given by the
            distiller).
        teacher_channels (int): Teacher feature width (given by the
            distiller).
        out_channels (int, optional): Common width C'. Defaults to the
            student width.
        num_nodes (int): N, kept nodes per sample. Defaults to 6000
            (pillars/points; the paper uses 256 per BEV level).
        k (int): Neighbours per node, self included. Defaults to 128.
        tau (float): Temperature of the weights. Defaults to 0.01 (the
            paper's, for ``weighting='softmax'`` on point counts).
        weighting (str): 'softmax' (paper), 'power' or 'rank' (see
            :func:`importance_weights`). Defaults to 'softmax'.
        selection (str): 'sample' keeps the top ``num_nodes`` nodes of each
            sample and normalises the weights per sample (paper);
            'batch' keeps the top ``num_nodes`` of the whole batch with one
            normalisation across it (released pillar path). Defaults to
            'sample'.
        score (str): 'auto' (count for voxel records with point counts,
            else max_response), 'count', 'max_response' or
            'teacher_context': the teacher's classification confidence at
            each node, the largest ``sigmoid`` over the channels of the
            term's ``teacher_context`` maps (e.g. PointPillars'
            ``bbox_head.conv_cls``; dense records only), so the graphs sit
            on the objects the teacher sees (our option, not the paper's).
        edge (str): 'sub' (paper) or 'cat' (released code).
        aggregate (str): 'max' (default) or 'none'.
        graph_scope (str): 'sample' (paper) or 'batch' (released code).
        reweight (bool): Use the importance weights; False gives every kept
            node weight 1 (ablation "local distillation only").
        teacher_adapter (str): 'trained' (paper, released code: the
            teacher-side EdgeConv trains with the student, so the target
            is a learnt projection of the teacher's graph features) or
            'frozen' (its random initial projection is kept: the target
            cannot move towards what the student already matches; see
            projects/PointDistiller/README.md) or 'none' (no teacher
            projection: the target is the teacher's own edge features,
            ``concat(F_j - F_q, F_q)`` aggregated like the student's, so
            ``out_channels`` is ``2 * teacher_channels``; only the
            student adapter learns). Defaults to 'trained'.
        match (str): 'index' (same voxelization), 'coors' or 'nearest'.
        student_voxel (dict, optional): ``voxel_size`` and
            ``point_cloud_range`` of the student grid (``match='nearest'``).
        teacher_voxel (dict, optional): Same for the teacher grid.
        chunk_size (int): Query rows per kNN block. Defaults to 1024.
        loss_weight (float): lambda. Defaults to 1.0.
    """

    takes_records = True

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 out_channels: Optional[int] = None,
                 num_nodes: int = 6000,
                 k: int = 128,
                 tau: float = 0.01,
                 weighting: str = 'softmax',
                 selection: str = 'sample',
                 score: str = 'auto',
                 edge: str = 'sub',
                 aggregate: str = 'max',
                 graph_scope: str = 'sample',
                 reweight: bool = True,
                 teacher_adapter: str = 'trained',
                 match: str = 'index',
                 student_voxel: Optional[dict] = None,
                 teacher_voxel: Optional[dict] = None,
                 chunk_size: int = 1024,
                 loss_weight: float = 1.0):
        super().__init__()
        checks = dict(
            score=(score, SCORES),
            graph_scope=(graph_scope, ('sample', 'batch')),
            weighting=(weighting, WEIGHTINGS),
            selection=(selection, ('sample', 'batch')),
            match=(match, ('index', 'coors', 'nearest')),
            teacher_adapter=(teacher_adapter, ('trained', 'frozen',
                                               'none')))
        for key, (value, valid) in checks.items():
            if value not in valid:
                raise ValueError(f'{key} must be one of {valid}, got '
                                 f'{value!r}')
        if match == 'nearest' and not (student_voxel and teacher_voxel):
            raise ValueError("match='nearest' needs student_voxel and "
                             'teacher_voxel (voxel_size, point_cloud_range)')
        if teacher_adapter == 'none':
            if out_channels not in (None, 2 * teacher_channels):
                raise ValueError(
                    "teacher_adapter='none' compares with the teacher's own "
                    f'edge features (2 * {teacher_channels} channels); got '
                    f'out_channels={out_channels}')
            out_channels = 2 * teacher_channels
        out_channels = out_channels or student_channels
        self.student_adapter = EdgeConvAdapter(student_channels,
                                               out_channels, edge, aggregate)
        self.teacher_adapter = None if teacher_adapter == 'none' else \
            EdgeConvAdapter(teacher_channels, out_channels, edge, aggregate)
        self.teacher_adapter_mode = teacher_adapter
        if teacher_adapter == 'frozen':
            self.teacher_adapter.requires_grad_(False)
        self.edge = edge
        self.aggregate = aggregate
        self.num_nodes = num_nodes
        self.k = k
        self.tau = tau
        self.weighting = weighting
        self.selection = selection
        self.score = score
        #: the distiller passes ``teacher_context`` (classification maps)
        self.takes_context = score == 'teacher_context'
        self.graph_scope = graph_scope
        self.reweight = reweight
        self.match = match
        self.student_voxel = student_voxel
        self.teacher_voxel = teacher_voxel
        self.chunk_size = chunk_size
        self.loss_weight = loss_weight
        #: statistics of the last call's weights (logged by Distiller3D)
        self.log_vars: dict = {}

    def correspond(self, s_rec: Record,
                   t_rec: Record) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Student and teacher nodes in one-to-one correspondence.

        Returns:
            tuple[Tensor]: student features (M, C_S), teacher features
            (M, C_T), batch index (M, ) and teacher point counts (M, ) or
            None.
        """
        s_feat, s_batch = record_nodes(s_rec)
        t_feat, t_batch = record_nodes(t_rec)
        counts = t_rec.num_points
        if self.match == 'index':
            if s_feat.shape[0] != t_feat.shape[0]:
                raise ValueError(
                    f'PointDistiller: student has {s_feat.shape[0]} nodes, '
                    f'teacher {t_feat.shape[0]}; use match="coors" or '
                    '"nearest" for different voxelizations')
            return s_feat, t_feat, t_batch, counts
        if s_rec.coors is None or t_rec.coors is None:
            raise ValueError(f'match={self.match!r} needs voxel records')
        if self.match == 'coors':
            idx_s, idx_t = match_rows(s_rec.coors, t_rec.coors)
        else:
            s_xyz = voxel_centres(s_rec.coors, **self.student_voxel)
            t_xyz = voxel_centres(t_rec.coors, **self.teacher_voxel)
            idx_s = torch.arange(len(s_xyz), device=s_xyz.device)
            idx_t = torch.empty_like(idx_s)
            for b in torch.unique(s_batch):
                s_sel = torch.nonzero(s_batch == b).squeeze(1)
                t_sel = torch.nonzero(t_batch == b).squeeze(1)
                if len(t_sel) == 0:
                    raise ValueError(f'teacher has no voxels in sample {b}')
                nn_idx = chunked_knn(s_xyz[s_sel], t_xyz[t_sel], 1,
                                     self.chunk_size)[:, 0]
                idx_t[s_sel] = t_sel[nn_idx]
        counts = counts[idx_t] if counts is not None else None
        return s_feat[idx_s], t_feat[idx_t], t_batch[idx_t], counts

    def importance(self, t_feat: Tensor, counts: Optional[Tensor],
                   t_rec: Optional[Record] = None,
                   context: Optional[List[Tensor]] = None) -> Tensor:
        """(M, ) importance: point counts, the teacher's max response or its
        classification confidence (``score='teacher_context'``)."""
        if self.score == 'teacher_context':
            if self.match != 'index' or t_rec is None or \
                    t_rec.kind != 'dense' or not context:
                raise ValueError(
                    "score='teacher_context' needs dense (B, C, H, W) "
                    "records matched by index and the term's "
                    'teacher_context maps')
            conf = teacher_confidence(context, t_rec.tensor.shape[-2:])
            return conf.reshape(-1)
        use_count = self.score == 'count' or (self.score == 'auto'
                                              and counts is not None)
        if use_count:
            if counts is None:
                raise ValueError("score='count' needs voxel records with "
                                 'point counts')
            return counts.float()
        return t_feat.max(dim=1).values

    def select(self, score: Tensor, batch: Tensor) -> Tuple[Tensor, Tensor]:
        """Top-N nodes and their weights.

        With ``selection='sample'`` each sample keeps its top N nodes and
        its weights sum to its N_b; with ``'batch'`` the top N nodes of the
        whole batch are kept and their weights sum to N.

        Returns:
            tuple[Tensor, Tensor]: kept node indices (sum of N_b, ) and
            their weights.
        """
        if self.selection == 'batch':
            groups = [torch.arange(len(score), device=score.device)]
        else:
            groups = [
                torch.nonzero(batch == b).squeeze(1)
                for b in torch.unique(batch)
            ]
        keep, weights, n90 = [], [], []
        for idx in groups:
            n = min(self.num_nodes, len(idx))
            chosen = idx[torch.topk(score[idx], n).indices]
            keep.append(chosen)
            if self.reweight:
                w = importance_weights(score[chosen], self.weighting,
                                       self.tau)
            else:
                w = score.new_ones(n)
            weights.append(w)
            n90.append(nodes_carrying(w, 0.9))
        weights = torch.cat(weights)
        self.log_vars = dict(
            n90=score.new_tensor(sum(n90) / max(len(n90), 1)),
            w_max=weights.max().detach() if len(weights) else
            score.new_zeros(()))
        return torch.cat(keep), weights

    def neighbours(self, t_feat: Tensor, batch: Tensor,
                   keep: Tensor) -> Tensor:
        """(N, K) neighbours of the kept nodes in teacher feature space."""
        if self.graph_scope == 'batch':
            return chunked_knn(t_feat[keep], t_feat, self.k, self.chunk_size)
        k = min(self.k, int(torch.bincount(batch).min().item()))
        out = keep.new_empty((len(keep), k))
        for b in torch.unique(batch):
            idx = torch.nonzero(batch == b).squeeze(1)
            rows = torch.nonzero(batch[keep] == b).squeeze(1)
            nn_idx = chunked_knn(t_feat[keep[rows]], t_feat[idx], k,
                                 self.chunk_size)
            out[rows] = idx[nn_idx]
        return out

    @fp32
    def forward(self, s_rec: Record, t_rec: Record,
                context: Optional[List[Tensor]] = None) -> Tensor:
        """Loss from a student and a teacher record.

        Args:
            s_rec (Record): Student voxel / sparse / dense / points record.
            t_rec (Record): Teacher record of the same nodes.
            context (list[Tensor], optional): Teacher classification
                logits, (B, K_i, h, w) each (``score='teacher_context'``).

        Returns:
            Tensor: Weighted scalar loss.
        """
        s_feat, t_feat, batch, counts = self.correspond(s_rec, t_rec)
        s_feat = s_feat.float()
        t_feat = t_feat.detach().float()
        if s_feat.shape[0] == 0:
            self.log_vars = {}
            return self.student_adapter.conv.weight.sum() * 0. + \
                s_feat.sum() * 0.
        with torch.no_grad():
            keep, weights = self.select(
                self.importance(t_feat, counts, t_rec, context), batch)
            nbrs = self.neighbours(t_feat, batch, keep)
        g_s = self.student_adapter(s_feat, keep, nbrs)
        if self.teacher_adapter_mode == 'none':
            g_t = teacher_edge_features(t_feat, keep, nbrs, self.edge,
                                        self.aggregate)
        elif self.teacher_adapter_mode == 'frozen':
            with torch.no_grad():
                g_t = self.teacher_adapter(t_feat, keep, nbrs)
        else:
            g_t = self.teacher_adapter(t_feat, keep, nbrs)
        err = (g_t - g_s).pow(2)
        err = err.mean(dim=-1) if err.dim() == 2 else err.mean(dim=(1, 2))
        return self.loss_weight * (weights * err).mean()
