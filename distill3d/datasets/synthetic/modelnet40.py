# Copyright (c) distill3d contributors. All rights reserved.
"""Synthetic ModelNet40 in the ``modelnet40_normal_resampled`` layout.

The layout written under ``out_dir`` is the one of the resampled ModelNet40
that PointNet++ released (and most point-cloud classifiers read)::

    out_dir
    ├── modelnet40_shape_names.txt   one class name a line, label order
    ├── modelnet40_train.txt         one shape id a line (airplane_0001)
    ├── modelnet40_test.txt
    ├── filelist.txt                 <class>/<shape id>.txt, every shape
    ├── synthetic_settings.json      seed and sizes of this data set
    └── <class>/<class>_%04d.txt     lines 'x,y,z,nx,ny,nz' (%.6f)

Train shapes of a class are numbered first, test shapes after them, as in
the real data. Every class is a :class:`~.shapes.ClassPrototype` (a
structural family with class-specific proportions); its shapes are random
instances (see :mod:`.shapes`). The real files hold 10000 points per shape;
the default here is 2048 to keep the set small (readers sample 1024).
"""
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from .shapes import make_prototypes, sample_instance

#: ModelNet40's classes in label order (modelnet40_shape_names.txt).
MODELNET40_CLASSES = (
    'airplane', 'bathtub', 'bed', 'bench', 'bookshelf', 'bottle', 'bowl',
    'car', 'chair', 'cone', 'cup', 'curtain', 'desk', 'door', 'dresser',
    'flower_pot', 'glass_box', 'guitar', 'keyboard', 'lamp', 'laptop',
    'mantel', 'monitor', 'night_stand', 'person', 'piano', 'plant', 'radio',
    'range_hood', 'sink', 'sofa', 'stairs', 'stool', 'table', 'tent',
    'toilet', 'tv_stand', 'vase', 'wardrobe', 'xbox')
SETTINGS_FILE = 'synthetic_settings.json'


@dataclass
class ModelNet40SynthConfig:
    """Size of a synthetic ModelNet40 data set.

    Args:
        num_train (int): Training shapes per class. Defaults to 10.
        num_test (int): Test shapes per class. Defaults to 4.
        num_points (int): Points per shape file. Defaults to 2048.
        jitter (float): Std of the per-instance log-normal factor of every
            shape parameter (larger: classes overlap more). Defaults to
            0.15.
        noise (float): Std of the point noise (unit-sphere units).
            Defaults to 0.004.
        classes (Sequence[str]): Class names. Defaults to ModelNet40's.
    """
    num_train: int = 10
    num_test: int = 4
    num_points: int = 2048
    jitter: float = 0.15
    noise: float = 0.004
    classes: Sequence[str] = MODELNET40_CLASSES


def write_shape_txt(path: str, points: np.ndarray,
                    normals: np.ndarray) -> None:
    """Write one shape as ``x,y,z,nx,ny,nz`` lines (%.6f)."""
    np.savetxt(path, np.concatenate([points, normals], 1), fmt='%.6f',
               delimiter=',')


def create_modelnet40_dataset(
        out_dir: str, seed: int = 0,
        cfg: Optional[ModelNet40SynthConfig] = None) -> Dict[str, object]:
    """Write a synthetic ModelNet40 data set.

    Args:
        out_dir (str): Output root (the data set's ``data_root``).
        seed (int): Seed; the same seed and config give the same bytes.
        cfg (ModelNet40SynthConfig, optional): Sizes.

    Returns:
        dict: ``num_train``, ``num_test`` (shape counts) and ``families``
        (class name -> structural family).
    """
    cfg = cfg or ModelNet40SynthConfig()
    classes = list(cfg.classes)
    protos = make_prototypes(classes, seed)
    os.makedirs(out_dir, exist_ok=True)
    train: List[str] = []
    test: List[str] = []
    files: List[str] = []
    for label, proto in enumerate(protos):
        name = proto.name
        os.makedirs(osp.join(out_dir, name), exist_ok=True)
        for i in range(cfg.num_train + cfg.num_test):
            shape_id = f'{name}_{i + 1:04d}'
            rng = np.random.default_rng([seed, label, i])
            pts, nrm = sample_instance(proto, cfg.num_points, rng,
                                       cfg.jitter, cfg.noise)
            write_shape_txt(osp.join(out_dir, name, shape_id + '.txt'), pts,
                            nrm)
            (train if i < cfg.num_train else test).append(shape_id)
            files.append(f'{name}/{shape_id}.txt')
    for fname, lines in (('modelnet40_shape_names.txt', classes),
                         ('modelnet40_train.txt', train),
                         ('modelnet40_test.txt', test),
                         ('filelist.txt', files)):
        with open(osp.join(out_dir, fname), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    settings = dict(seed=seed, generator='distill3d synthetic ModelNet40',
                    **asdict(cfg))
    settings['classes'] = classes
    with open(osp.join(out_dir, SETTINGS_FILE), 'w') as f:
        json.dump(settings, f, indent=1)
    return dict(num_train=len(train), num_test=len(test),
                families={p.name: p.family for p in protos})
