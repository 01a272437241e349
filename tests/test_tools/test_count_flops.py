"""tools/count_flops.py reproduces the paper's PointPillars cost."""
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from distill3d.utils import set_data_root
from helpers import REPO, config_path

sys.path.insert(0, osp.join(REPO, 'tools'))
from count_flops import count_macs  # noqa: E402

PP = ('pointpillars/'
      'pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py')


def test_pointpillars_macs_match_paper(synthetic_kitti):
    from mmdet3d.registry import DATASETS, MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config_path(PP))
    set_data_root(cfg, synthetic_kitti)
    model = MODELS.build(cfg.model).eval()
    sample = DATASETS.build(cfg.test_dataloader.dataset)[0]
    stats = count_macs(model, pseudo_collate([sample]))
    # PointDistiller's table: PointPillars 34.3 GFLOPs (dense BEV layers)
    assert abs(stats['macs'] / 1e9 - 34.3) / 34.3 < 0.03
    assert stats['uncounted_layers'] == 0 and stats['dense_layers'] > 20
