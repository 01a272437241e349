"""tools/feature_gap.py on real PointPillars teacher and 4x students."""
import json
import os.path as osp
import runpy
import sys

from mmengine.config import Config

from helpers import REPO, random_checkpoints

CONFIG = osp.join(REPO, 'configs', 'distill',
                  'fitnets_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-'
                  '3class.py')


def test_feature_gap_cli(synthetic_kitti, tmp_path, monkeypatch):
    cfg = Config.fromfile(CONFIG)
    teacher_cfg = Config.fromfile(cfg.teacher_cfg)
    ckpts = random_checkpoints((('teacher', teacher_cfg.model, 0),
                                ('a', cfg.model, 1), ('b', cfg.model, 2)),
                               tmp_path)
    out = tmp_path / 'gap.json'
    monkeypatch.setattr(sys, 'argv', [
        'feature_gap.py', CONFIG, '--teacher-ckpt', ckpts['teacher'],
        '--student', 'a', ckpts['a'], '--student', 'b', ckpts['b'],
        '--data-root', synthetic_kitti, '--frames', '2', '--pixels', '300',
        '--threshold', '0.0', '--work-dir', str(tmp_path / 'work'),
        '--json', str(out)
    ])
    runpy.run_path(osp.join(REPO, 'tools', 'feature_gap.py'),
                   run_name='__main__')
    result = json.loads(out.read_text())
    assert set(result['students']) == {'a', 'b'}
    assert result['pixels']['random'] == 2 * 300
    assert result['pixels']['confident'] > 2 * 300  # threshold 0: all
    r2 = [v[s]['r2'] for v in result['students'].values()
          for s in ('random', 'confident')]
    assert all(x <= 1.0 for x in r2)
    # two different students explain the teacher differently
    assert result['students']['a'] != result['students']['b']
