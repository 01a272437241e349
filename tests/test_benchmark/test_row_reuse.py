"""The benchmark reuses a model's row only while everything it depends on
is unchanged (the demo's second run)."""
import json
import os

from distill3d.benchmark.evaluate import ModelSpec
from distill3d.benchmark.pipeline import reusable_row, row_stamp
from helpers import config_path

PP = config_path(
    'pointpillars/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py')


def test_a_row_is_reused_only_with_the_same_stamp(tmp_path):
    ckpt = tmp_path / 'epoch_1.pth'
    ckpt.write_bytes(b'weights')
    plain = tmp_path / 'student.pth'
    plain.write_bytes(b'student')
    spec = ModelSpec('teacher', PP, str(ckpt))
    stamp = row_stamp(spec, 'det', str(tmp_path / 'data'), 2)
    row = dict(name='teacher', metrics={'BEV mAP': 1.0},
               plain_checkpoint=str(plain))
    path = str(tmp_path / 'row.json')
    with open(path, 'w') as f:
        json.dump(dict(stamp=stamp, row=row), f)
    assert reusable_row(path, stamp) == row
    # another latency setting, data root or a retrained checkpoint
    assert reusable_row(path, row_stamp(spec, 'det', None, 2)) is None
    assert reusable_row(
        path, row_stamp(spec, 'det', str(tmp_path / 'data'), 3)) is None
    os.utime(ckpt, ns=(1, 1))
    assert reusable_row(
        path, row_stamp(spec, 'det', str(tmp_path / 'data'), 2)) is None
    # the evaluated (exported) model is gone, or the file is damaged
    plain.unlink()
    assert reusable_row(path, stamp) is None
    for text in ('[1, 2]', '{"stamp": '):
        with open(path, 'w') as f:
            f.write(text)
        assert reusable_row(path, stamp) is None
