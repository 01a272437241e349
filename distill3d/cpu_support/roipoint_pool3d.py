"""CPU RoI point pooling (mmcv ``RoIPointPool3d``, PointRCNN's RCNN head)."""
import torch

from .boxes3d import points_in_boxes_all_cpu
from .dispatch import route_ext_function


def roipoint_pool3d_cpu(xyz: torch.Tensor, boxes3d: torch.Tensor,
                        pts_feature: torch.Tensor, num_sampled_points: int):
    """Pool the points inside each box, mmcv's sampling rule.

    Each box takes its first ``num_sampled_points`` inside points in index
    order, repeated cyclically when it has fewer; boxes without points are
    flagged empty and stay zero.

    Args:
        xyz (torch.Tensor): (B, N, 3) point coordinates.
        boxes3d (torch.Tensor): (B, M, 7) boxes, bottom centre at z.
        pts_feature (torch.Tensor): (B, N, C) point features.
        num_sampled_points (int): Points S per box.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: pooled (B, M, S, 3 + C) features
        and int32 empty flags (B, M).
    """
    batch, num = xyz.shape[:2]
    boxes = boxes3d.shape[1]
    feats = torch.cat([xyz, pts_feature], dim=-1)
    pooled = feats.new_zeros(batch, boxes, num_sampled_points,
                             feats.shape[-1])
    empty = torch.zeros(batch, boxes, dtype=torch.int32)
    if num == 0 or boxes == 0:
        empty.fill_(1)
        return pooled, empty
    inside = points_in_boxes_all_cpu(xyz, boxes3d).bool()  # B, N, M
    order = torch.arange(num)
    for b in range(batch):
        flags = inside[b].t()  # M, N
        count = flags.sum(1)
        key = torch.where(flags, order, order + num)
        k = min(num_sampled_points, num)
        first = torch.topk(key, k, dim=1, largest=False).values
        cnt = count.clamp(max=num_sampled_points).clamp(min=1)
        slot = torch.arange(num_sampled_points)[None] % cnt[:, None]
        idx = first.gather(1, slot.clamp(max=k - 1))
        idx = torch.where(idx < num, idx, torch.zeros_like(idx))
        pooled[b] = feats[b][idx]
        empty[b] = (count == 0).int()
        pooled[b][count == 0] = 0
    return pooled, empty


def _roipoint_pool3d_ext(xyz, boxes3d, pts_feature, pooled_features,
                         pooled_empty_flag):
    pooled, empty = roipoint_pool3d_cpu(xyz, boxes3d, pts_feature,
                                        pooled_features.shape[2])
    pooled_features.copy_(pooled)
    pooled_empty_flag.copy_(empty)


def register() -> None:
    """Route mmcv's RoI point pooling for CPU tensors."""
    route_ext_function('roipoint_pool3d_forward', _roipoint_pool3d_ext)
