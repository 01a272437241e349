"""Helpers shared by the tests (importable as ``helpers``)."""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: configs of the study-runner tests (repo-relative): PointPillars 4x, its
#: PointDistiller config and the full-width teacher
STUDY_STUDENT = 'projects/PointDistiller/configs/pointpillars_hv-secfpn-' \
    '4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
STUDY_DISTILL = 'projects/PointDistiller/configs/pointdistiller_' \
    'pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
STUDY_TEACHER = 'configs/pointpillars/pointpillars_hv-secfpn_1xb2-cpu_' \
    'synthetic-kitti-3d-3class.py'


def config_path(rel: str) -> str:
    """Absolute path of a config of this repo."""
    return osp.join(REPO, 'configs', rel)


def limit_train_frames(cfg, num) -> None:
    """Train on the first ``num`` frames only, or on the frames of a list
    of indices (``indices`` of the innermost train dataset, inside
    RepeatDataset / CBGS wrappers): one iteration per epoch when that is
    the batch size."""
    dataset = cfg.train_dataloader.dataset
    while 'dataset' in dataset:
        dataset = dataset.dataset
    dataset.indices = num


def cpu_runner_cfg(config: str, data_root: str, work_dir: str,
                   max_epochs: int = 1, batch_size: int = 2,
                   train_frames=None):
    """Load a repo config and size it for a few CPU iterations in a test.

    Args:
        config (str): Config path relative to ``configs/``.
        data_root (str): Data set root to point the config at.
        work_dir (str): Runner work dir.
        max_epochs (int): Training epochs.
        batch_size (int): Train batch size.
        train_frames (int | list[int], optional): Train on this many
            frames, or on these frames, only (:func:`limit_train_frames`);
            all by default.

    Returns:
        Config: The config.
    """
    from mmengine.config import Config

    from distill3d.utils import set_data_root
    cfg = Config.fromfile(config_path(config))
    set_data_root(cfg, data_root)
    cfg.work_dir = work_dir
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_interval = max_epochs
    cfg.train_dataloader.batch_size = batch_size
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.default_hooks.visualization = dict(type='Det3DVisualizationHook')
    cfg.log_level = 'INFO'
    cfg.randomness = dict(seed=0, deterministic=False)
    if train_frames is not None:
        limit_train_frames(cfg, train_frames)
    return cfg


def val_metrics(runner) -> dict:
    """The metrics of the validation the last ``runner.train()`` ran.

    mmengine's RuntimeInfoHook puts them in the message hub
    (``val/<key>``), so a test reads them instead of validating twice.
    """
    hub = runner.message_hub
    out = {
        k[len('val/'):]: v.current()
        for k, v in hub.log_scalars.items() if k.startswith('val/')
    }
    out.update({
        k[len('val/'):]: v
        for k, v in hub.runtime_info.items() if k.startswith('val/')
    })
    assert out, 'the training did not validate'
    return out


def random_checkpoints(models, out_dir: str) -> dict:
    """Save freshly initialised models as checkpoints.

    Args:
        models: ``(name, model_cfg, seed)`` triples (mmdet3d model dicts).
        out_dir (str): Where ``<name>.pth`` are written.

    Returns:
        dict: name -> checkpoint path (``{'state_dict': ...}``).
    """
    import torch
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules()
    ckpts = {}
    for name, model_cfg, seed in models:
        torch.manual_seed(seed)
        model = MODELS.build(model_cfg)
        model.init_weights()
        ckpts[name] = osp.join(str(out_dir), f'{name}.pth')
        torch.save(dict(state_dict=model.state_dict()), ckpts[name])
    return ckpts
