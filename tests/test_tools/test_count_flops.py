"""count_macs (tools/count_flops.py) reproduces the paper's PointPillars
cost on mmdet3d's KITTI config, and the CPU-sized config scales with its
BEV grid."""
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from distill3d.utils import set_data_root
from helpers import REPO, config_path

sys.path.insert(0, osp.join(REPO, 'tools'))
from count_flops import count_macs  # noqa: E402

KITTI = ('pointpillars', 'pointpillars_hv_secfpn_8xb6-160e_kitti-3d-3class.py')
CPU = ('pointpillars/'
       'pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py')


def _gmacs(cfg, data_root):
    from mmdet3d.registry import DATASETS, MODELS
    set_data_root(cfg, data_root)
    model = MODELS.build(cfg.model).eval()
    sample = DATASETS.build(cfg.test_dataloader.dataset)[0]
    stats = count_macs(model, pseudo_collate([sample]))
    assert stats['uncounted_layers'] == 0 and stats['dense_layers'] > 20
    return stats['macs'] / 1e9


def test_pointpillars_macs_match_paper(synthetic_kitti):
    from mmdet3d.utils import register_all_modules
    register_all_modules()
    import mmdet3d
    kitti = osp.join(osp.dirname(mmdet3d.__file__), '.mim', 'configs', *KITTI)
    full = _gmacs(Config.fromfile(kitti), synthetic_kitti)
    # PointDistiller's table: PointPillars 34.3 GFLOPs (dense BEV layers)
    assert abs(full - 34.3) / 34.3 < 0.03
    # the CPU config's 248 x 248 grid has 0.287x the 496 x 432 cells
    near = _gmacs(Config.fromfile(config_path(CPU)), synthetic_kitti)
    assert abs(near / full - 248 * 248 / (496 * 432)) < 0.01
