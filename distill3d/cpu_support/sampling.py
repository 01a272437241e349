"""CPU furthest point sampling (mmcv ``furthest_point_sample*``)."""
import torch

from .dispatch import route_ext_function, route_function_method


def furthest_point_sample_cpu(points_xyz: torch.Tensor,
                              num_points: int) -> torch.Tensor:
    """Furthest point sampling, same rule as mmcv's CUDA kernel.

    Starts from index 0 and repeatedly takes the point with the largest
    squared distance to the already chosen set (lowest index on ties).

    Args:
        points_xyz (torch.Tensor): (B, N, 3) point coordinates.
        num_points (int): Number M of points to sample.

    Returns:
        torch.Tensor: (B, M) int32 indices.
    """
    batch, num = points_xyz.shape[:2]
    xyz = points_xyz.float()
    out = torch.zeros(batch, num_points, dtype=torch.long)
    dist = torch.full((batch, num), 1e10, dtype=torch.float32)
    far = torch.zeros(batch, dtype=torch.long)
    rows = torch.arange(batch)
    for i in range(num_points):
        out[:, i] = far
        centre = xyz[rows, far].unsqueeze(1)
        dist = torch.minimum(dist, ((xyz - centre)**2).sum(-1))
        far = dist.argmax(-1)
    return out.int()


def furthest_point_sample_with_dist_cpu(points_dist: torch.Tensor,
                                        num_points: int) -> torch.Tensor:
    """Furthest point sampling from a precomputed distance matrix.

    Args:
        points_dist (torch.Tensor): (B, N, N) pairwise distances.
        num_points (int): Number M of points to sample.

    Returns:
        torch.Tensor: (B, M) int32 indices.
    """
    batch, num = points_dist.shape[:2]
    out = torch.zeros(batch, num_points, dtype=torch.long)
    dist = torch.full((batch, num), 1e10, dtype=points_dist.dtype)
    far = torch.zeros(batch, dtype=torch.long)
    rows = torch.arange(batch)
    for i in range(num_points):
        out[:, i] = far
        dist = torch.minimum(dist, points_dist[rows, far])
        far = dist.argmax(-1)
    return out.int()


def _fps_forward(ctx, points_xyz: torch.Tensor,
                 num_points: int) -> torch.Tensor:
    out = furthest_point_sample_cpu(points_xyz, num_points)
    ctx.mark_non_differentiable(out)
    return out


def _fps_dist_ext(points_tensor, temp_tensor, idx_tensor, b, n, m):
    idx_tensor.copy_(furthest_point_sample_with_dist_cpu(points_tensor, m))


def register() -> None:
    """Route mmcv's furthest point sampling ops for CPU tensors."""
    from mmcv.ops.furthest_point_sample import FurthestPointSampling

    # The wrapper allocates with torch.cuda.*: replace it for CPU inputs.
    route_function_method(FurthestPointSampling, 'forward', _fps_forward, 0)
    route_ext_function('furthest_point_sampling_with_dist_forward',
                       _fps_dist_ext)
