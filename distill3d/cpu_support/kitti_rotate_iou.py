"""CPU rotated IoU for mmdet3d's KITTI evaluation.

``mmdet3d/evaluation/functional/kitti_utils/rotate_iou.py`` compiles numba
CUDA kernels when imported, which fails on machines without a GPU, so
``KittiMetric`` cannot run there. On such machines this module takes its
place in ``sys.modules`` and computes the same quantities with mmcv's CPU
``box_iou_rotated`` kernel.
"""
import importlib
import sys
import types

import numpy as np
import torch

MODULE = 'mmdet3d.evaluation.functional.kitti_utils.rotate_iou'


def rotate_iou_cpu_eval(boxes: np.ndarray,
                        query_boxes: np.ndarray,
                        criterion: int = -1,
                        device_id: int = 0) -> np.ndarray:
    """Rotated BEV IoU with the contract of mmdet3d's ``rotate_iou_gpu_eval``.

    Args:
        boxes (np.ndarray): (N, 5) boxes (x, y, w, h, angle) in camera BEV,
            angle clockwise when positive.
        query_boxes (np.ndarray): (K, 5) boxes, same format.
        criterion (int): -1 IoU, 0 intersection / area of ``boxes``, 1
            intersection / area of ``query_boxes``, 2 intersection area.
        device_id (int): Unused, kept for the signature.

    Returns:
        np.ndarray: (N, K) float32 values (the numba version computes and
        returns float32 whatever the input dtype).
    """
    from .dispatch import announce
    from .rotated_overlap import rotated_intersection
    announce()
    # The numba kernel's corners are (cx + cos*u + sin*v, cy - sin*u +
    # cos*v): positive angles turn clockwise.
    inter, area_a, area_b = rotated_intersection(
        boxes, query_boxes, clockwise=True)
    if criterion == -1:
        union = area_a[:, None] + area_b[None, :] - inter
        out = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.)
    elif criterion == 0:
        out = inter / np.maximum(area_a[:, None], 1e-12)
    elif criterion == 1:
        out = inter / np.maximum(area_b[None, :], 1e-12)
    elif criterion == 2:
        out = inter
    else:
        raise ValueError(f'criterion must be -1, 0, 1 or 2, got {criterion}')
    # the numba version computes and returns float32 whatever the input
    return np.ascontiguousarray(out, dtype=np.float32)


def register() -> bool:
    """Install the CPU version when mmdet3d's numba-CUDA module can't load.

    Returns:
        bool: True if the CPU version was installed.
    """
    if MODULE in sys.modules:
        mod = sys.modules[MODULE]
        return getattr(mod, '_distill3d_cpu', False)
    if torch.cuda.is_available():
        try:
            importlib.import_module(MODULE)
            return False
        except Exception:  # numba.cuda unusable despite a GPU
            sys.modules.pop(MODULE, None)
    shim = types.ModuleType(MODULE, __doc__)
    shim.rotate_iou_gpu_eval = rotate_iou_cpu_eval
    shim._distill3d_cpu = True
    sys.modules[MODULE] = shim
    from .dispatch import ROUTED
    ROUTED.append(f'{MODULE}.rotate_iou_gpu_eval')
    return True
