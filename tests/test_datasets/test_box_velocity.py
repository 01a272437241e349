"""AddZeroVelocity: 7-value boxes get a zero (vx, vy) for CenterHead."""
import torch

from distill3d.datasets.transforms import AddZeroVelocity
from mmdet3d.structures import LiDARInstance3DBoxes


def test_seven_value_boxes_get_zero_velocity():
    boxes = LiDARInstance3DBoxes(torch.tensor([[1., 2., -1., 4., 2., 1.5,
                                                0.3]]))
    out = AddZeroVelocity()(dict(gt_bboxes_3d=boxes))['gt_bboxes_3d']
    assert isinstance(out, LiDARInstance3DBoxes) and out.box_dim == 9
    assert torch.equal(out.tensor[:, :7], boxes.tensor)
    assert torch.equal(out.tensor[:, 7:], torch.zeros(1, 2))
    # the geometry is the same box (bottom centre, yaw)
    assert torch.allclose(out.gravity_center, boxes.gravity_center)
    # nine values (nuScenes) and no boxes are left alone
    nine = LiDARInstance3DBoxes(torch.rand(2, 9), box_dim=9)
    assert AddZeroVelocity()(dict(gt_bboxes_3d=nine))['gt_bboxes_3d'] is nine
    assert AddZeroVelocity()(dict(points=None)) == dict(points=None)
