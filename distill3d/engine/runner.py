"""A Runner that wraps a config's model into a distiller.

mmengine refuses duplicate keys among ``_base_`` files, so a distillation
base config cannot define ``model`` next to the user's mmdet3d config.
Instead it defines ``distiller`` (the method) and ``runner_type =
'Distill3DRunner'``; the user's config adds ``teacher_cfg`` and
``teacher_ckpt``. This runner turns that into
``model = dict(**distiller, student=<the config's model>, teacher=...)``.
"""
import copy
import os.path as osp
from typing import Optional

from mmengine.config import Config, ConfigDict
# mmengine's root registry: tools build runners before mmdet3d's scope is set
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


def resolve_cfg_path(path, config_file: Optional[str] = None):
    """A config reference as ``_base_`` entries accept it.

    ``pkg::rel/path.py`` stays (resolved when loaded); a relative path is
    taken relative to ``config_file``'s folder when the file is there,
    else relative to the working directory; dicts and absolute paths are
    returned as they are.
    """
    if not isinstance(path, str) or '::' in path or osp.isabs(path):
        return path
    if config_file:
        beside = osp.join(osp.dirname(osp.abspath(config_file)), path)
        if osp.isfile(beside):
            return osp.normpath(beside)
    return path


def build_distill_cfg(cfg: Config) -> Config:
    """Return a copy of ``cfg`` whose model is the distiller.

    Args:
        cfg (Config): A config with ``distiller``, ``teacher_cfg`` (a
            path, relative to the config's folder or the working directory,
            a package config ``mmdet3d::...`` or a model dict) and
            optionally ``teacher_ckpt`` (model already wrapped: unchanged;
            ``distiller.teacher_mode='shared'``: no teacher keys).

    Returns:
        Config: The config to build the Runner from.
    """
    cfg = copy.deepcopy(cfg)
    if cfg.model.get('type') == 'Distiller3D' or 'student' in cfg.model:
        # already wrapped (also subclasses, e.g. AdversarialDistiller3D)
        return cfg
    distiller = cfg.get('distiller', None)
    if distiller is None:
        raise KeyError('a distillation config needs `distiller` (inherit a '
                       'configs/_base_/distill/*.py file)')
    model = ConfigDict(copy.deepcopy(distiller))
    model.student = cfg.model
    if model.get('teacher_mode', 'frozen') == 'shared':
        # the student is its own teacher: no teacher_cfg / teacher_ckpt
        cfg.model = model
        return cfg
    if cfg.get('teacher_cfg', None) is None:
        raise KeyError('a distillation config needs `teacher_cfg`: the '
                       "teacher's config path (mmdet3d:: allowed) or model "
                       "dict (or distiller.teacher_mode='shared')")
    model.teacher = resolve_cfg_path(cfg.teacher_cfg, cfg.filename)
    model.teacher_ckpt = cfg.get('teacher_ckpt', None)
    cfg.model = model
    return cfg


def load_analysis_cfg(config: str,
                      work_dir: str,
                      data_root: Optional[str] = None,
                      cfg_options: Optional[dict] = None,
                      teacher_ckpt: Optional[str] = None) -> Config:
    """A distillation config prepared for an analysis tool (no training).

    Loads ``config``, points it at ``data_root``, merges ``cfg_options``,
    sets ``teacher_ckpt`` when given and wraps the model into the
    distiller (:func:`build_distill_cfg`); the runner built from it logs
    warnings only and runs in one process.

    Args:
        config (str): A distillation config file.
        work_dir (str): The runner's work dir.
        data_root (str, optional): Replaces the config's data root.
        cfg_options (dict, optional): ``--cfg-options`` to merge.
        teacher_ckpt (str, optional): Replaces the config's teacher
            checkpoint.

    Returns:
        Config: The config to build the Runner from.
    """
    from distill3d.utils import set_data_root
    cfg = Config.fromfile(config)
    if data_root:
        set_data_root(cfg, data_root)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if teacher_ckpt:
        cfg.teacher_ckpt = teacher_ckpt
    cfg = build_distill_cfg(cfg)
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    cfg.launcher = 'none'
    return cfg


@RUNNERS.register_module()
class Distill3DRunner(Runner):
    """mmengine's Runner, with the model wrapped by the config's distiller.

    Training, validation (of the student), checkpointing, resuming and the
    distributed launchers are mmengine's own.
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'Distill3DRunner':
        """Build the runner from a distillation config."""
        return super().from_cfg(build_distill_cfg(cfg))
