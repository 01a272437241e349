"""Re-point a loaded config at another data root."""
from typing import Any

from mmengine.config import Config


def _replace(node: Any, old: str, new: str) -> Any:
    if isinstance(node, str):
        return new + node[len(old):] if node.startswith(old) else node
    if isinstance(node, dict):
        for key in list(node.keys()):
            node[key] = _replace(node[key], old, new)
        return node
    if isinstance(node, list):
        return [_replace(v, old, new) for v in node]
    if isinstance(node, tuple):
        return tuple(_replace(v, old, new) for v in node)
    return node


def set_data_root(cfg: Config, data_root: str) -> Config:
    """Replace the config's ``data_root`` everywhere it was used.

    mmengine resolves ``data_root + '...'`` when the config file is read, so
    overriding the ``data_root`` key alone (``--cfg-options``) leaves the
    dataset, GT-database and metric paths unchanged. This rewrites every
    string value that starts with the config's current ``data_root``.

    Args:
        cfg (Config): A config that defines ``data_root``.
        data_root (str): The new root (a trailing '/' is added if missing).

    Returns:
        Config: The same config, modified in place.
    """
    old = cfg.get('data_root', None)
    if old is None:
        raise KeyError('the config has no data_root key to replace')
    if not data_root.endswith('/'):
        data_root += '/'
    for key in list(cfg.keys()):
        value = cfg[key]
        cfg[key] = _replace(value, old, data_root) if key != 'data_root' \
            else data_root
    return cfg
