# Copyright (c) distill3d contributors. All rights reserved.
"""``distill3d::`` configs, as ``mmdet3d::`` ones.

mmengine resolves ``pkg::rel/path.py`` in ``_base_`` (and
``mmengine.hub.get_config``) to ``<installed pkg>/.mim/configs/rel/path.py``
but only for the packages in its ``MODULE2PACKAGE`` table. distill3d ships
its ``configs/`` there (the wheel holds a copy, the repository a link) and
adds itself to the table when imported. The table is read when a config is
loaded, so ``import distill3d`` must come first: distill3d's tools do it;
mmdet3d's own tools load the config before its ``custom_imports``, so
there inherit distill3d configs by path.

mmengine finds an installed package's folder through its distribution's
location, which for an editable (PEP 660) install is site-packages, not
the source tree; for ``distill3d`` the folder of the imported package is
used instead (the same folder for a regular install).
"""
import os.path as osp

from mmengine.config import config as _config
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.hub import hub as _hub

PACKAGE = 'distill3d'


def _package_dir() -> str:
    return osp.dirname(osp.dirname(osp.abspath(__file__)))


def register_config_scope() -> None:
    """Let ``distill3d::`` config paths resolve (idempotent)."""
    MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)
    for module in (_config, _hub):
        original = module.get_installed_path
        if getattr(original, '_distill3d', False):
            continue

        def get_installed_path(package: str, _original=original) -> str:
            if package == PACKAGE:
                return _package_dir()
            return _original(package)

        get_installed_path._distill3d = True
        module.get_installed_path = get_installed_path
