from mmengine.config import Config

from distill3d.utils import set_data_root
from helpers import config_path

PP = ('pointpillars/'
      'pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py')


def test_set_data_root_rewrites_every_derived_path():
    cfg = Config.fromfile(config_path(PP))
    old = cfg.data_root
    set_data_root(cfg, '/real/kitti')
    assert cfg.data_root == '/real/kitti/'
    assert old not in cfg.pretty_text
    train = cfg.train_dataloader.dataset.dataset
    assert train.data_root == '/real/kitti/'
    sampler = [t for t in train.pipeline if t['type'] == 'ObjectSample'][0]
    assert sampler['db_sampler']['info_path'] == \
        '/real/kitti/kitti_dbinfos_train.pkl'
    assert cfg.val_evaluator.ann_file == '/real/kitti/kitti_infos_val.pkl'
