"""Dense BEV maps of another grid, resampled by metric position."""
import pytest
import torch

from distill3d.models.recorders import Record, resample_teacher, same_grid
from distill3d.models.recorders.bev_grid import pixel_centres


def _linear_map(bev_range, h, w):
    """(1, 2, H, W): channel 0 = x, channel 1 = y of each pixel centre."""
    xs, ys = pixel_centres(bev_range, h, w)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    return torch.stack([grid_x, grid_y]).float()[None]


def test_resample_against_a_hand_built_grid():
    # teacher: SECOND-like range at stride 8 of 0.05 m voxels (0.4 m px);
    # student: PointPillars-like near square at 0.32 m pixels
    t_range, s_range = (0., -40., 70.4, 40.), (0., -19.84, 39.68, 19.84)
    teacher = _linear_map(t_range, 200, 176)
    student = torch.zeros(1, 3, 124, 124)
    crop, sampled = resample_teacher(student, s_range, teacher, t_range)
    # the student lies inside the teacher's range: nothing cropped
    assert crop.shape == (1, 3, 124, 124)
    assert sampled.shape == (1, 2, 124, 124)
    # bilinear sampling of a linear function is exact: the sampled map
    # holds the student's own pixel centres
    expected = _linear_map(s_range, 124, 124)
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))
    assert torch.allclose(sampled[inner], expected[inner], atol=1e-3)


def test_crop_to_the_teacher_range():
    # the teacher covers only x in [0, 20]: the student's x > 20 is cut
    s_range, t_range = (0., -10., 40., 10.), (0., -10., 20., 10.)
    student = _linear_map(s_range, 10, 20)  # 2 m pixels
    crop, sampled = resample_teacher(student, s_range,
                                     _linear_map(t_range, 20, 20), t_range)
    assert crop.shape[-2:] == (10, 10)
    assert crop[0, 0].max() < 20
    assert torch.allclose(crop, sampled, atol=1e-4)
    with pytest.raises(ValueError, match='do not overlap'):
        resample_teacher(student, s_range, student, (100., 0., 120., 5.))


def test_a_shifted_grid_gives_a_shifted_map():
    """The teacher's grid one pixel (1 m) further in x: the resampled map
    is the teacher map moved by one pixel."""
    torch.manual_seed(0)
    teacher = torch.randn(2, 4, 16, 16)
    s_range = (0., 0., 16., 16.)
    t_range = (1., 0., 17., 16.)
    crop, sampled = resample_teacher(torch.zeros(2, 1, 16, 16), s_range,
                                     teacher, t_range)
    # student pixel w (centre w + 0.5) is teacher pixel w - 1
    assert crop.shape[-1] == 15  # student x < 1 is outside the teacher
    assert torch.allclose(sampled, teacher[..., :, :15], atol=1e-5)


def test_same_grid():
    assert same_grid((1, 2, 4, 4), (0, 0, 1, 1), (1, 3, 4, 4), (0, 0, 1, 1))
    assert not same_grid((1, 2, 4, 4), None, (1, 3, 8, 8), None)
    assert not same_grid((1, 2, 4, 4), (0, 0, 1, 1), (1, 2, 4, 4),
                         (0, 0, 2, 1))
    assert Record(torch.zeros(1, 1, 2, 2), 'dense').bev_range is None
