"""CPU three-nearest-neighbour interpolation (PointNet++ feature propagation).
"""
import torch

from .dispatch import route_ext_function

#: Target points processed at once, bounding the (chunk, M) distances.
CHUNK = 2048


def three_nn_cpu(target: torch.Tensor, source: torch.Tensor):
    """Three nearest source points of every target point.

    Args:
        target (torch.Tensor): (B, N, 3) query points.
        source (torch.Tensor): (B, M, 3) known points.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: squared distances (B, N, 3) in
        ascending order and int32 indices (B, N, 3). Missing neighbours
        (M < 3) get distance 1e40 and index 0, as in mmcv's kernel.
    """
    batch, num, _ = target.shape
    dist2 = torch.full((batch, num, 3), 1e40, dtype=torch.float64)
    idx = torch.zeros(batch, num, 3, dtype=torch.long)
    k = min(3, source.shape[1])
    for b in range(batch):
        src = source[b].double()
        for s in range(0, num, CHUNK):
            tgt = target[b, s:s + CHUNK].double()
            # one (chunk, M) plane per coordinate, not a (chunk, M, 3)
            # difference tensor: the same sum, a third of the memory
            d2 = None
            for axis in range(3):
                diff = tgt[:, axis, None] - src[None, :, axis]
                d2 = diff.mul_(diff) if d2 is None else d2.addcmul_(
                    diff, diff)
            # argmin takes the first minimum: equal distances keep index
            # order like the kernel's strict '<' (topk does not).
            for j in range(k):
                best = d2.argmin(1, keepdim=True)
                dist2[b, s:s + CHUNK, j] = d2.gather(1, best)[:, 0]
                idx[b, s:s + CHUNK, j] = best[:, 0]
                d2.scatter_(1, best, float('inf'))
    return dist2.to(target.dtype), idx.int()


def three_interpolate_cpu(features: torch.Tensor, indices: torch.Tensor,
                          weight: torch.Tensor) -> torch.Tensor:
    """Weighted sum of three neighbours' features.

    Args:
        features (torch.Tensor): (B, C, M) source features.
        indices (torch.Tensor): (B, N, 3) neighbour indices into M.
        weight (torch.Tensor): (B, N, 3) weights.

    Returns:
        torch.Tensor: (B, C, N) interpolated features.
    """
    batch, channels, _ = features.shape
    num = indices.shape[1]
    flat = indices.long().reshape(batch, 1, num * 3).expand(-1, channels, -1)
    gathered = features.gather(2, flat).reshape(batch, channels, num, 3)
    return (gathered * weight[:, None]).sum(-1)


def _three_nn_ext(unknown_tensor, known_tensor, dist2_tensor, idx_tensor, b,
                  n, m):
    dist2, idx = three_nn_cpu(unknown_tensor, known_tensor)
    dist2_tensor.copy_(dist2)
    idx_tensor.copy_(idx)


def _three_interp_fwd_ext(points_tensor, idx_tensor, weight_tensor,
                          out_tensor, b, c, m, n):
    out_tensor.copy_(
        three_interpolate_cpu(points_tensor, idx_tensor, weight_tensor))


def _three_interp_bwd_ext(grad_out_tensor, idx_tensor, weight_tensor,
                          grad_points_tensor, b, c, n, m):
    contrib = grad_out_tensor[..., None] * weight_tensor[:, None]  # B,C,N,3
    flat = idx_tensor.long().reshape(b, 1, n * 3).expand(-1, c, -1)
    grad_points_tensor.scatter_add_(2, flat, contrib.reshape(b, c, n * 3))


def register() -> None:
    """Route mmcv's three_nn / three_interpolate for CPU tensors."""
    route_ext_function('three_nn_forward', _three_nn_ext)
    route_ext_function('three_interpolate_forward', _three_interp_fwd_ext)
    route_ext_function('three_interpolate_backward', _three_interp_bwd_ext)
