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
    from mmcv.ops import box_iou_rotated

    from .dispatch import announce
    announce()
    a = torch.from_numpy(np.ascontiguousarray(boxes, dtype=np.float32))
    b = torch.from_numpy(np.ascontiguousarray(query_boxes, dtype=np.float32))
    if a.shape[0] == 0 or b.shape[0] == 0:
        return np.zeros((a.shape[0], b.shape[0]), dtype=np.float32)
    # box_iou_rotated's native angle turns x towards y (counter-clockwise
    # in a y-up frame); clockwise=False negates it, which gives the numba
    # kernel's corners (cx + cos*u + sin*v, cy - sin*u + cos*v).
    if criterion == -1:
        out = box_iou_rotated(a, b, mode='iou', clockwise=False)
    elif criterion in (0, 2):
        out = box_iou_rotated(a, b, mode='iof', clockwise=False)
        if criterion == 2:
            out = out * (a[:, 2] * a[:, 3])[:, None]
    elif criterion == 1:
        out = box_iou_rotated(b, a, mode='iof', clockwise=False).t()
    else:
        raise ValueError(f'criterion must be -1, 0, 1 or 2, got {criterion}')
    return np.ascontiguousarray(out.numpy())


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
