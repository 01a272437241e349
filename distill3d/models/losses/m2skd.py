# Copyright (c) distill3d contributors. All rights reserved.
"""M2SKD's distillation terms (multi-to-single KD for LiDAR segmentation).

The teacher sees the scan plus hard-class instances fused from earlier
scans, the student the scan alone; both voxelize on the same cylindrical
grid, so every student voxel has a teacher voxel at the same index (the
fused points only add teacher voxels). The terms compare the two at the
voxels they share:

- :class:`M2SKDLogitLoss`: between temperature-softened voxel logits,
  either the KL divergence averaged over voxels and classes
  (``reduction='kl'``) or the released code's form
  (``reduction='release'``: per voxel the class mean of
  ``p_t * |log(p_t / p_s)|``, only voxels above 0.01, averaged over them).
- feature KD: :class:`~distill3d.models.losses.FeatureMSELoss` with a
  ``ChannelAdapter`` on a decoder feature (e.g. ``backbone.up_block_list.1``,
  the released code's ``upBlock2``, where its weight is 0); the distiller
  pairs the voxels.
- :class:`InstanceAffinityLoss`: L1 between the student's and the
  (detached) teacher's cosine-affinity matrices over hard-class voxels,
  built within and across instances of the same class (the paper's terms,
  with the across-instance matrices kept within a class so that a teacher
  that confuses two classes cannot pull them together), or per class (the
  released code's variant).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet3d.registry import MODELS
from torch import Tensor, nn

from ..recorders import Record, match_rows
from .logit_kd import KDLogitLoss
from .utils import fp32

#: mmdet3d's SemanticKITTI class indices of M2SKD's hard classes: bicycle,
#: motorcycle, truck, other-vehicle ('bus'), person, bicyclist, motorcyclist
DEFAULT_HARD_CLASS_IDS = (1, 2, 3, 4, 5, 6, 7)


@MODELS.register_module()
class M2SKDLogitLoss(KDLogitLoss):
    """Logit KD at the voxels student and teacher share.

    With ``p = softmax(z / T)`` per voxel (the released code softens with
    ``softmax(0.3 z)``, i.e. ``T = 1 / 0.3``, and weighs the term 5):

    - ``reduction='kl'``: ``KL(p_t || p_s)`` per voxel and class, averaged
      over voxels *and* classes, not scaled by ``T^2``;
    - ``reduction='release'`` (skyshoumeng/M2SKD,
      ``segmentator_3d_asymm_spconv.py``): per voxel
      ``v = mean_c p_t * |log((p_t + eps) / (p_s + eps))|`` (eps 1e-6);
      only voxels with ``v > threshold`` (0.01) count, and the loss is
      their mean (0 when none). The absolute value makes every class
      term non-negative, and the mask drops the voxels the student
      already matches, so the remaining voxels are not diluted.

    Args:
        loss_weight (float): Weight. Defaults to 5.0.
        temperature (float): T. Defaults to 1 / 0.3.
        reduction (str): 'kl' or 'release'. Defaults to 'kl'.
        threshold (float): Voxel threshold of ``'release'``. Defaults to
            0.01.
    """

    def __init__(self, loss_weight: float = 5.0,
                 temperature: float = 1 / 0.3,
                 reduction: str = 'kl',
                 threshold: float = 0.01):
        super().__init__(loss_weight=loss_weight, temperature=temperature,
                         mode='softmax')
        if reduction not in ('kl', 'release'):
            raise ValueError(f"reduction must be 'kl' or 'release', got "
                             f'{reduction!r}')
        self.reduction = reduction
        self.threshold = threshold
        #: share of voxels above the threshold in the last call
        #: (``'release'``; logged by Distiller3D)
        self.log_vars: dict = {}

    @fp32
    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Loss.

        Args:
            student (Tensor): (M, C) student logits at the shared voxels.
            teacher (Tensor): (M, C) teacher logits at the same voxels.

        Returns:
            Tensor: Weighted scalar loss.
        """
        s = self._class_last(student) / self.temperature
        t = self._class_last(teacher.detach()) / self.temperature
        if s.numel() == 0:
            return student.sum() * 0.
        if self.reduction == 'kl':
            loss = F.kl_div(F.log_softmax(s, -1), F.log_softmax(t, -1),
                            reduction='none', log_target=True).mean()
            return self.loss_weight * loss
        eps = 1e-6
        p_s, p_t = F.softmax(s, -1), F.softmax(t, -1)
        per_voxel = (p_t * torch.log((p_t + eps) / (p_s + eps)).abs()).mean(
            -1)
        keep = per_voxel > self.threshold
        self.log_vars = dict(kept=keep.float().mean().detach())
        if not keep.any():
            return student.sum() * 0.
        return self.loss_weight * per_voxel[keep].mean()


def voxel_labels(data_samples: Sequence) -> Tuple[Tensor, Tensor, Tensor]:
    """Class, instance id and frame of every voxel of a voxelized batch.

    Reads what mmdet3d's ``Det3DDataPreprocessor`` leaves on the samples in
    train mode (``gt_pts_seg.voxel_semantic_mask``, ``point2voxel_map``)
    plus the per-point instance ids packed from ``pts_instance_mask``. A
    voxel's instance is the largest instance id among its points of the
    voxel's (majority) class; 0 means no instance.

    Args:
        data_samples (list[Det3DDataSample]): The student's samples after
            its preprocessor ran on them.

    Returns:
        tuple[Tensor, Tensor, Tensor]: (M, ) class, (M, ) instance id and
        (M, ) frame index of the batch's voxels, in the order of the
        voxelized batch (the order of the sparse tensors' rows).
    """
    sems, insts, frames = [], [], []
    for i, sample in enumerate(data_samples):
        seg = sample.gt_pts_seg
        if 'voxel_semantic_mask' not in seg or \
                'point2voxel_map' not in sample:
            raise KeyError(
                'InstanceAffinityLoss needs voxel labels: the student must '
                "be voxelized in train mode by mmdet3d's Det3DDataPreprocessor"
                ' (cylindrical or minkunet voxels)')
        if 'pts_instance_mask' not in seg:
            raise KeyError(
                "InstanceAffinityLoss(mode='instance') needs per-point "
                "instance ids: load them (LoadAnnotations3D(with_panoptic_3d"
                "=True) or MultiScanHardInstanceFusion) and pack "
                "'pts_instance_mask'")
        v_sem = seg.voxel_semantic_mask.long()
        p2v = sample.point2voxel_map.long()
        p_sem = seg.pts_semantic_mask.long()
        p_inst = seg.pts_instance_mask.long().to(v_sem.device)
        own = p_sem.to(v_sem.device) == v_sem[p2v]
        v_inst = torch.zeros_like(v_sem).scatter_reduce(
            0, p2v[own], p_inst[own], reduce='amax', include_self=True)
        sems.append(v_sem)
        insts.append(v_inst)
        frames.append(torch.full_like(v_sem, i))
    return torch.cat(sems), torch.cat(insts), torch.cat(frames)


@MODELS.register_module()
class InstanceAffinityLoss(nn.Module):
    """Instance-aware affinity distillation over hard-class voxels.

    At the voxels student and teacher share, the vectors of the recorded
    module (logits by default, or features) are L2-normalised and compared
    through cosine-affinity matrices, student against the detached teacher,
    with an L1 distance (mean over matrix entries):

    - ``mode='instance'`` (the paper): per frame, one matrix *within* each
      hard-class instance (its voxels), and matrices *across* instances
      (their mean unit vectors): with ``across='class'`` (default) one per
      hard class over that class's instances in the frame, with
      ``across='all'`` one over all the frame's hard-class instances
      whatever their class. The loss is the mean of the within-instance
      terms plus ``across_weight`` times the mean of the across-instance
      terms. Voxels without an instance id are left out.
    - ``mode='class'`` (the released code's variant): per frame, one matrix
      per hard class over all of its voxels, whatever their instance.

    ``across='all'`` puts the prototypes of different classes in one
    matrix: a teacher that confuses two hard classes (cosine near 1 between
    their prototypes) then pulls the student's prototypes of the two
    classes together, whatever the labels say; with ``'class'`` no matrix
    holds two classes.

    The records must be at the input voxel resolution (e.g.
    ``decode_head.conv_seg`` or ``backbone``): voxel classes and instances
    come from the student's voxelization (see :func:`voxel_labels`).

    Args:
        student_channels (int): Student width (given by the distiller).
        teacher_channels (int): Teacher width (given by the distiller).
        hard_classes (Sequence[int]): Class indices of the hard classes.
            Defaults to mmdet3d's SemanticKITTI indices 1..7.
        mode (str): 'instance' or 'class'. Defaults to 'instance'.
        across (str): 'class' (across-instance matrices over instances of
            one class) or 'all' (over every hard-class instance of the
            frame). Defaults to 'class'.
        across_weight (float): Weight of the across-instance term.
            Defaults to 1.0.
        max_nodes (int): At most this many voxels per matrix (a random
            subset beyond; an n x n matrix costs n^2 memory). Defaults to
            512.
        loss_weight (float): Weight. Defaults to 1.0.
    """

    #: the distiller passes the records (voxel coordinates are needed)
    takes_records = True
    #: the distiller passes the student's data samples (voxel labels)
    takes_data_samples = True

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 hard_classes: Sequence[int] = DEFAULT_HARD_CLASS_IDS,
                 mode: str = 'instance',
                 across: str = 'class',
                 across_weight: float = 1.0,
                 max_nodes: int = 512,
                 loss_weight: float = 1.0):
        super().__init__()
        if mode not in ('instance', 'class'):
            raise ValueError(f"mode must be 'instance' or 'class', got "
                             f'{mode!r}')
        if across not in ('class', 'all'):
            raise ValueError(f"across must be 'class' or 'all', got "
                             f'{across!r}')
        if max_nodes < 2:
            raise ValueError(f'max_nodes must be >= 2, got {max_nodes}')
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        self.hard_classes = tuple(int(c) for c in hard_classes)
        self.mode = mode
        self.across = across
        self.across_weight = across_weight
        self.max_nodes = max_nodes
        self.loss_weight = loss_weight

    def _subset(self, idx: Tensor) -> Tensor:
        if len(idx) <= self.max_nodes:
            return idx
        keep = torch.randperm(len(idx), device=idx.device)[:self.max_nodes]
        return idx[keep]

    @staticmethod
    def _affinity_l1(s: Tensor, t: Tensor) -> Tensor:
        """L1 between (n, n) cosine affinities of unit rows ``s`` and ``t``.
        """
        return (s @ s.t() - t @ t.t()).abs().mean()

    def groups(self, sem: Tensor, inst: Tensor,
               frame: Tensor) -> Dict[str, List[Tensor]]:
        """Node indices of every matrix, by term.

        Args:
            sem (Tensor): (M, ) voxel classes.
            inst (Tensor): (M, ) voxel instance ids (0: none).
            frame (Tensor): (M, ) frame index of each voxel.

        Returns:
            dict[str, list[Tensor]]: ``within`` (or ``class``): index
            tensors of the voxels of each instance (class) per frame;
            ``across``: per frame (``across='all'``) or per frame and
            class (``'class'``) with >= 2 instances, a (M, ) instance slot
            per voxel (-1 outside).
        """
        hard = torch.zeros_like(sem, dtype=torch.bool)
        for c in self.hard_classes:
            hard |= sem == c
        out: Dict[str, List[Tensor]] = dict(within=[], across=[])
        if self.mode == 'instance':
            hard &= inst > 0
        key = (frame * (1 << 20) + sem) * (1 << 20)
        if self.mode == 'instance':
            key = key + inst
        key = torch.where(hard, key, torch.full_like(key, -1))
        uniq, slot = torch.unique(key, return_inverse=True)
        for u, k in enumerate(uniq.tolist()):
            if k < 0:
                continue
            idx = torch.nonzero(slot == u).squeeze(1)
            if len(idx) >= 2:
                out['within'].append(idx)
        if self.mode == 'instance':
            # key = (frame * 2^20 + class) * 2^20 + instance
            scope = 1 << 40 if self.across == 'all' else 1 << 20
            group_of = torch.div(uniq, scope, rounding_mode='floor')
            for f in torch.unique(group_of[uniq >= 0]).tolist():
                members = torch.nonzero((group_of == f)
                                        & (uniq >= 0)).squeeze(1)
                if len(members) >= 2:
                    remap = torch.full((len(uniq), ), -1, dtype=torch.long,
                                       device=sem.device)
                    remap[members] = torch.arange(len(members),
                                                  device=sem.device)
                    out['across'].append(remap[slot])
        return out

    def forward(self, s_rec: Record, t_rec: Record,
                data_samples: Optional[Sequence] = None) -> Tensor:
        """Loss.

        Args:
            s_rec (Record): Student sparse/voxel record, (M, C_s) rows in
                the order of the student's voxelized batch.
            t_rec (Record): Teacher record, (M', C_t) rows.
            data_samples (list[Det3DDataSample]): The student's samples
                (see :func:`voxel_labels`).

        Returns:
            Tensor: Weighted scalar loss (0 with a gradient path when no
            frame has a hard-class group).
        """
        if s_rec.coors is None or t_rec.coors is None:
            raise ValueError('InstanceAffinityLoss needs voxel / sparse '
                             'records (rows with coordinates)')
        if data_samples is None:
            raise ValueError('InstanceAffinityLoss needs the data samples')
        sem, inst, frame = voxel_labels(data_samples)
        if len(sem) != len(s_rec.tensor):
            raise ValueError(
                f'InstanceAffinityLoss: the student record has '
                f'{len(s_rec.tensor)} rows but the batch has {len(sem)} '
                'voxels; record a module at the input voxel resolution '
                "(e.g. 'decode_head.conv_seg' or 'backbone')")
        idx_s, idx_t = match_rows(s_rec.coors, t_rec.coors)
        s = F.normalize(s_rec.tensor[idx_s].float(), dim=1)
        t = F.normalize(t_rec.tensor[idx_t].detach().float(), dim=1)
        groups = self.groups(sem[idx_s], inst[idx_s], frame[idx_s])
        zero = s_rec.tensor.sum() * 0.
        within = [self._affinity_l1(s[i], t[i])
                  for i in map(self._subset, groups['within'])]
        loss = torch.stack(within).mean() if within else zero
        across = []
        for slot in groups['across']:
            n = int(slot.max().item()) + 1
            on = slot >= 0
            s_proto = F.normalize(torch.zeros(
                n, s.shape[1], device=s.device).index_add(0, slot[on], s[on]),
                                  dim=1)
            t_proto = F.normalize(torch.zeros(
                n, t.shape[1], device=t.device).index_add(0, slot[on], t[on]),
                                  dim=1)
            across.append(self._affinity_l1(s_proto, t_proto))
        if across:
            loss = loss + self.across_weight * torch.stack(across).mean()
        return self.loss_weight * loss
