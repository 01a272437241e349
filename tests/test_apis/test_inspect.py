"""tools/inspect_distill.py: recordable modules, pairs and --check on a
PointPillars (dense / voxel records) and a Cylinder3D M2SKD config (sparse
records, multi-scan teacher input)."""
import importlib.util
import os.path as osp
import sys

from mmengine.config import Config

from helpers import REPO

from distill3d.apis.inspect import check_distill, inspect_distill
from distill3d.utils import set_data_root

PD = osp.join(REPO, 'projects', 'PointDistiller', 'configs',
              'pointdistiller_pointpillars-4x_1xb2-cpu_synthetic-kitti-'
              '3d-3class.py')
M2SKD = osp.join(REPO, 'projects', 'M2SKD', 'configs',
                 'm2skd_cylinder3d_1xb2-cpu_synthetic-semantickitti.py')
STUDENT = osp.join(REPO, 'projects', 'PointDistiller', 'configs',
                   'pointpillars_hv-secfpn-4x_1xb2-cpu_synthetic-kitti-'
                   '3d-3class.py')


def _tool():
    spec = importlib.util.spec_from_file_location(
        'inspect_distill_tool', osp.join(REPO, 'tools', 'inspect_distill.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _by_name(recs):
    return {r.module: r for r in recs}


def test_inspect_pointpillars_from_student_config(synthetic_kitti,
                                                  monkeypatch, capsys):
    """A plain student config plus --teacher-cfg, through the tool."""
    teacher = osp.join(REPO, 'configs', 'pointpillars',
                       'pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-'
                       '3d-3class.py')
    monkeypatch.setattr(sys, 'argv', [
        'inspect_distill.py', STUDENT, '--teacher-cfg', teacher,
        '--data-root', synthetic_kitti, '--depth', '2'
    ])
    assert _tool().main() == 0
    out = capsys.readouterr().out
    assert 'voxel_encoder (voxel' in out
    assert 'neck (dense (124, 124)) -> neck [ChannelAdapter 192->384]' in out
    # the class logits agree: logit KD needs no adapter
    assert 'bbox_head.conv_cls (dense (124, 124)) -> bbox_head.conv_cls ' \
        '[none]' in out

    cfg = Config.fromfile(PD)
    set_data_root(cfg, synthetic_kitti)
    cfg.train_dataloader.num_workers = 0
    result = inspect_distill(cfg, depth=1)
    s, t = _by_name(result['student']), _by_name(result['teacher'])
    assert s['voxel_encoder'].kind == 'voxel'
    assert (s['voxel_encoder'].channels, t['voxel_encoder'].channels) == \
        (32, 64)
    assert s['neck'].shape[1:] == (192, 124, 124)
    assert t['neck'].shape[1:] == (384, 124, 124)
    # the same pillars on both sides (same voxelization)
    assert s['voxel_encoder'].nodes == t['voxel_encoder'].nodes
    pairs = {p.student.module: [x.module for x in p.teachers]
             for p in result['pairs']}
    assert 'voxel_encoder' in pairs['voxel_encoder']
    assert 'middle_encoder' not in pairs['neck']  # another grid


def test_check_reports_terms_and_failures(synthetic_kitti, capsys,
                                          monkeypatch):
    cfg = Config.fromfile(PD)
    set_data_root(cfg, synthetic_kitti)
    cfg.train_dataloader.num_workers = 0
    checks = check_distill(cfg)
    assert [c.name for c in checks] == ['teacher_ckpt',
                                        'loss_kd_pointdistiller']
    assert all(c.ok for c in checks)
    assert 'voxel_encoder voxel' in checks[1].message
    # a misspelt module: the build fails naming the module and close names
    bad = cfg.copy()
    bad.distiller.distill_losses.loss_kd_pointdistiller.student = 'voxel_enc'
    (check, ) = [c for c in check_distill(bad) if not c.ok]
    assert check.name == 'distiller' and "'voxel_enc'" in check.message
    assert 'voxel_encoder' in check.message
    # FitNets between different widths without an adapter
    bad = cfg.copy()
    bad.distiller.distill_losses = dict(loss_kd_fit=dict(
        type='FeatureMSELoss', student='neck', teacher='neck'))
    (check, ) = [c for c in check_distill(bad) if not c.ok]
    assert '192' in check.message and '384' in check.message
    assert 'ChannelAdapter' in check.message
    # the tool exits 1 with the reason
    dumped = str(synthetic_kitti) + '_bad_cfg.py'
    bad.dump(dumped)
    monkeypatch.setattr(sys, 'argv',
                        ['inspect_distill.py', dumped, '--check'])
    assert _tool().main() == 1
    assert 'FAIL distiller' in capsys.readouterr().out


def test_inspect_m2skd_cylinder3d(synthetic_semantickitti):
    """Sparse records; the teacher sees the fused multi-scan input."""
    cfg = Config.fromfile(M2SKD)
    set_data_root(cfg, synthetic_semantickitti)
    cfg.train_dataloader.num_workers = 0
    # frame 0 of a sequence has no earlier scans to fuse: take two frames
    result = inspect_distill(cfg, depth=1, num_samples=2)
    s, t = _by_name(result['student']), _by_name(result['teacher'])
    assert s['backbone'].kind == t['backbone'].kind == 'sparse'
    # the fused teacher input has more points, hence more voxels
    assert t['backbone'].shape[0] > s['backbone'].shape[0]
    # ... on the same grid: they pair (by voxel coordinate), same widths
    pairs = {p.student.module: p for p in result['pairs']}
    same = [x for x in pairs['backbone'].teachers if x.module == 'backbone']
    assert same and pairs['backbone'].adapter(same[0]) == 'none'
