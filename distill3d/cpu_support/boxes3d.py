"""CPU 3D box ops: points in boxes, BEV overlaps and 3D NMS.

Points in boxes and axis-aligned NMS reuse mmcv's own CPU kernels
(``points_in_boxes_cpu``, ``nms``). Rotated overlaps use exact polygon
intersection (:mod:`.rotated_overlap`), because mmcv's CPU
``box_iou_rotated`` is unstable for (nearly) coincident boxes.
"""
import numpy as np
import torch

from .dispatch import route_ext_function, route_module_function
from .rotated_overlap import rotated_intersection, rotated_iou


def points_in_boxes_all_cpu(points: torch.Tensor,
                            boxes: torch.Tensor) -> torch.Tensor:
    """Which boxes contain each point.

    Args:
        points (torch.Tensor): (B, M, 3) points in LiDAR coordinates.
        boxes (torch.Tensor): (B, T, 7) boxes (x, y, z, dx, dy, dz, rz) with
            the bottom centre at z.

    Returns:
        torch.Tensor: (B, M, T) int32 flags (1 inside, 0 outside).
    """
    from mmcv.ops import points_in_boxes_cpu
    assert boxes.shape[0] == points.shape[0], \
        'Points and boxes should have the same batch size'
    if boxes.shape[1] == 0:
        return points.new_zeros(points.shape[:2] + (0, ), dtype=torch.int)
    # mmcv's CPU op returns a transposed view; the CUDA op is contiguous.
    return points_in_boxes_cpu(points.float(),
                               boxes.float()).int().contiguous()


def points_in_boxes_part_cpu(points: torch.Tensor,
                             boxes: torch.Tensor) -> torch.Tensor:
    """Index of the first box containing each point.

    Args:
        points (torch.Tensor): (B, M, 3) points in LiDAR coordinates.
        boxes (torch.Tensor): (B, T, 7) boxes, bottom centre at z.

    Returns:
        torch.Tensor: (B, M) int32 box index, -1 for background points.
    """
    flags = points_in_boxes_all_cpu(points, boxes)
    if flags.shape[-1] == 0:
        return flags.new_full(points.shape[:2], -1)
    first = flags.argmax(-1).int()
    return torch.where(flags.any(-1), first, torch.full_like(first, -1))


def _to_xywhr(boxes: torch.Tensor) -> torch.Tensor:
    """(N, 7) (x, y, z, dx, dy, dz, rz) -> (N, 5) BEV (x, y, dx, dy, rz).

    The heading turns x towards y (counter-clockwise in the y-up LiDAR
    frame), like the iou3d kernels'.
    """
    return boxes[:, [0, 1, 3, 4, 6]].detach().double().cpu()


def boxes_overlap_bev_cpu(boxes_a: torch.Tensor,
                          boxes_b: torch.Tensor) -> torch.Tensor:
    """BEV overlap areas of rotated boxes (counter-clockwise heading).

    Args:
        boxes_a (torch.Tensor): (N, 7) boxes.
        boxes_b (torch.Tensor): (M, 7) boxes.

    Returns:
        torch.Tensor: (N, M) float32 overlap areas.
    """
    inter, _, _ = rotated_intersection(
        _to_xywhr(boxes_a).numpy(), _to_xywhr(boxes_b).numpy())
    return torch.from_numpy(inter).float()


def greedy_nms(iou: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS over boxes sorted by score, suppressing IoU > threshold.

    Args:
        iou (np.ndarray): (N, N) pairwise IoU.
        iou_threshold (float): Suppression threshold.

    Returns:
        np.ndarray: Indices of the kept boxes, ascending.
    """
    suppressed = np.zeros(len(iou), dtype=bool)
    keep = []
    for i in range(len(iou)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return np.asarray(keep, dtype=np.int64)


def nms3d_cpu(boxes: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy rotated BEV NMS over boxes already sorted by score.

    Like mmcv's CUDA kernel, a box is suppressed by a kept, higher-scored
    box whose BEV IoU with it is strictly above the threshold.

    Args:
        boxes (torch.Tensor): (N, 7) boxes in descending score order.
        iou_threshold (float): Boxes with BEV IoU above it are suppressed.

    Returns:
        torch.Tensor: (K, ) long indices of kept boxes, in input order.
    """
    if boxes.shape[0] == 0:
        return boxes.new_zeros(0, dtype=torch.long)
    xywhr = _to_xywhr(boxes).numpy()
    return torch.from_numpy(
        greedy_nms(rotated_iou(xywhr, xywhr), iou_threshold))


def nms3d_normal_cpu(boxes: torch.Tensor,
                     iou_threshold: float) -> torch.Tensor:
    """Greedy axis-aligned BEV NMS (heading ignored), boxes sorted by score.

    Args:
        boxes (torch.Tensor): (N, 7) boxes in descending score order.
        iou_threshold (float): Boxes with BEV IoU above it are suppressed.

    Returns:
        torch.Tensor: (K, ) long indices of kept boxes, in input order.
    """
    from mmcv.ops import nms
    if boxes.shape[0] == 0:
        return boxes.new_zeros(0, dtype=torch.long)
    half = boxes[:, 3:5].float() / 2
    xyxy = torch.cat([boxes[:, :2] - half, boxes[:, :2] + half], dim=1)
    scores = torch.arange(boxes.shape[0], 0, -1, dtype=torch.float32)
    _, keep = nms(xyxy.float(), scores, iou_threshold, offset=0)
    return keep.long().sort().values


def _overlap_bev_ext(boxes_a, boxes_b, ans_iou):
    ans_iou.copy_(boxes_overlap_bev_cpu(boxes_a, boxes_b))


def _nms_ext(impl):

    def ext(boxes, keep, num_out, nms_overlap_thresh):
        kept = impl(boxes, nms_overlap_thresh)
        keep[:kept.numel()] = kept
        num_out.fill_(kept.numel())

    return ext


def register() -> None:
    """Route mmcv's 3D box ops for CPU tensors."""
    import mmcv.ops.points_in_boxes  # noqa: F401
    route_module_function('mmcv.ops.points_in_boxes', 'points_in_boxes_part',
                          points_in_boxes_part_cpu)
    route_module_function('mmcv.ops.points_in_boxes', 'points_in_boxes_all',
                          points_in_boxes_all_cpu)
    route_ext_function('iou3d_boxes_overlap_bev_forward', _overlap_bev_ext)
    route_ext_function('iou3d_nms3d_forward', _nms_ext(nms3d_cpu))
    route_ext_function('iou3d_nms3d_normal_forward',
                       _nms_ext(nms3d_normal_cpu))
