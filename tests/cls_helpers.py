"""Helpers of the classification / FAD tests (importable as
``cls_helpers``): tiny synthetic data and CPU-tiny configs."""
import os.path as osp

from helpers import REPO

TEACHER_CPU = 'pointnet2_cls/pointnet2-ssg_1xb16-cpu_synthetic-modelnet40.py'
STUDENT_CPU = ('pointnet2_cls/'
               'pointnet2-ssg-40x_1xb16-cpu_synthetic-modelnet40.py')
FAD_CPU = osp.join(
    REPO, 'projects/FAD/configs/'
    'fad_pointnet2-ssg-40x_1xb16-cpu_synthetic-modelnet40.py')
#: points per cloud in the tiny runs
TINY_POINTS = 64


def make_tiny_modelnet40(root: str, num_train: int = 2, num_test: int = 1,
                         num_points: int = 128) -> str:
    """A 40-class synthetic ModelNet40 with a few small shapes per class."""
    from distill3d.datasets.synthetic.modelnet40 import (
        ModelNet40SynthConfig, create_modelnet40_dataset)
    create_modelnet40_dataset(
        root, seed=0,
        cfg=ModelNet40SynthConfig(num_train=num_train, num_test=num_test,
                                  num_points=num_points))
    return root


def tiny_model_cfg(cfg) -> None:
    """Shrink the sampling of a PointNet++ classifier config in place."""
    cfg.model.backbone.num_points = (16, 4)
    cfg.model.backbone.num_samples = (8, 4)


def tiny_cls_cfg(config: str, data_root: str, work_dir: str,
                 max_epochs: int = 1, batch_size: int = 8):
    """Load a classification (or FAD) config, sized for a test run.

    Args:
        config (str): Path relative to ``configs/`` or absolute.
        data_root (str): Synthetic ModelNet40 root.
        work_dir (str): Work dir.
        max_epochs (int): Epochs.
        batch_size (int): Train batch size.

    Returns:
        Config: The config (teacher config, if any, is left as a path).
    """
    from mmengine.config import Config

    from distill3d.utils import set_data_root
    path = config if osp.isabs(config) else osp.join(REPO, 'configs', config)
    cfg = Config.fromfile(path)
    set_data_root(cfg, data_root)
    cfg.work_dir = work_dir
    tiny_model_cfg(cfg)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
        for t in cfg[key].dataset.pipeline:
            if t['type'] == 'ClsPointSample':
                t['num_points'] = TINY_POINTS
    cfg.train_dataloader.batch_size = batch_size
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_interval = max_epochs
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.log_level = 'INFO'
    cfg.randomness = dict(seed=0, deterministic=False)
    return cfg


def tiny_model_dict(student: bool = False) -> dict:
    """The CPU teacher (or student) model dict with tiny sampling."""
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', STUDENT_CPU if student else TEACHER_CPU))
    tiny_model_cfg(cfg)
    return cfg.model.to_dict()
