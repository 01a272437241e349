# Copyright (c) distill3d contributors. All rights reserved.
"""Reading a teacher checkpoint: model-zoo URLs and pre-1.0 checkpoints.

mmengine reads ``http(s)://`` checkpoints through
``torch.hub.load_state_dict_from_url``, whose ``weights_only`` defaults to
False: a checkpoint from a URL could run code when unpickled.
:func:`fetch_checkpoint` downloads it into torch hub's checkpoint cache
(once; rank 0 downloads, the others wait) and the caller loads the local
file, weights-only like any local checkpoint.

Checkpoints saved before mmdet3d 1.0's coordinate-system refactor
(v1.0.0rc0) load without error into 1.x models and give near-zero AP
(PointDistiller issue #11, mmdet3d issue #1339). mmdet3d 0.x wrote its
version into the checkpoint meta; :func:`check_mmdet3d_version` refuses
such a checkpoint.
"""
import os
import os.path as osp
from typing import Optional
from urllib.parse import urlparse

import torch
from mmengine.dist import get_dist_info

#: first mmdet3d version with the refactored coordinate systems
REFACTOR_VERSION = '1.0.0rc0'


def is_url(path: str) -> bool:
    """Whether ``path`` is an ``http(s)://`` URL."""
    return path.startswith(('http://', 'https://'))


def fetch_checkpoint(url: str, model_dir: Optional[str] = None) -> str:
    """Local copy of a checkpoint URL (downloaded once).

    Args:
        url (str): ``http(s)://`` address of the checkpoint.
        model_dir (str, optional): Cache folder. Defaults to torch hub's
            ``<hub dir>/checkpoints`` (``$TORCH_HOME``), as mmengine's.

    Returns:
        str: Path of the local file.
    """
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    name = osp.basename(urlparse(url).path) or 'checkpoint.pth'
    dst = osp.join(model_dir, name)
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.isfile(dst):
        os.makedirs(model_dir, exist_ok=True)
        torch.hub.download_url_to_file(url, dst, progress=False)
    if world_size > 1:
        torch.distributed.barrier()
    return dst


def check_mmdet3d_version(meta: Optional[dict], path: str) -> None:
    """Refuse a checkpoint whose meta says mmdet3d < 1.0.0rc0 wrote it.

    Raises:
        ValueError: Naming the version, what goes wrong and mmdet3d's
            tools for it.
    """
    from packaging.version import InvalidVersion, Version
    version = (meta or {}).get('mmdet3d_version')
    if not isinstance(version, str):
        return  # 1.x runners do not record it; nothing to tell
    try:
        old = Version(version) < Version(REFACTOR_VERSION)
    except InvalidVersion:
        return
    if old:
        raise ValueError(
            f'teacher_ckpt {path!r} was saved by mmdet3d {version}, before '
            "mmdet3d 1.0's coordinate-system refactor: it loads into a 1.x "
            'model without error but its boxes use the old yaw / size '
            'conventions (near-zero AP). Use the re-released 1.x checkpoint '
            "of the model from mmdet3d's model zoo (the model's "
            'configs/<model>/metafile.yml), retrain it, or convert it with '
            "mmdet3d's tools/model_converters/ (convert_votenet_checkpoints"
            '.py, convert_h3dnet_checkpoints.py cover those models); data '
            'infos of that era need tools/dataset_converters/'
            'update_infos_to_v2.py. Set teacher_ckpt_allow_legacy=True to '
            'load it anyway.')
