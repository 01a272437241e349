# Copyright (c) distill3d contributors. All rights reserved.
"""Synthetic ScanObjectNN in the layout of its released ``h5_files``.

Files written under ``out_dir`` (one pair per requested variant)::

    out_dir
    ├── main_split/training_objectdataset.h5                    OBJ_BG
    ├── main_split/test_objectdataset.h5
    ├── main_split/training_objectdataset_augmentedrot_scale75.h5  PB_T50_RS
    ├── main_split/test_objectdataset_augmentedrot_scale75.h5
    ├── main_split_nobg/training_objectdataset.h5               OBJ_ONLY
    ├── main_split_nobg/test_objectdataset.h5
    ├── shape_names.txt                                         15 classes
    └── synthetic_settings.json

Each h5 file holds ``data`` float32 (N, 2048, 3), ``label`` int64 (N, )
and ``mask`` int32 (N, 2048): -1 for background points, 1 for object
points (the real files mark background with -1 as well).

Objects are shapes of :mod:`.shapes` (15 class prototypes, their own
seed), seen like a scan: from a random viewpoint only the surfaces facing
the sensor are kept (back-face culling) and a random slab may be cut away
(occlusion); range noise is added. Variants:

* OBJ_ONLY: the partial object alone.
* OBJ_BG: plus background inside the object's (slightly enlarged)
  bounding box: a floor patch and parts of 1-3 nearby clutter objects,
  also culled by the view.
* PB_T50_RS: the bounding box is translated by up to 50% of its size,
  rotated about the up axis and scaled, then everything inside it is kept:
  more background, objects cut at the box border, ``num_augment`` perturbed
  copies per object in the training file (the real set has 5).

Every sample is resampled to exactly 2048 points and centred at its
bounding box; the class counts are imbalanced (per-class factor 0.5-1.5).
"""
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .shapes import (Part, make_class_subtypes, make_prototypes,
                     sample_instance, sample_surface)

#: ScanObjectNN's 15 classes in label order.
SCANOBJECTNN_CLASSES = ('bag', 'bin', 'box', 'cabinet', 'chair', 'desk',
                        'display', 'door', 'shelf', 'table', 'bed', 'pillow',
                        'sink', 'sofa', 'toilet')
#: variant -> (folder, file suffix)
VARIANTS = {
    'OBJ_ONLY': ('main_split_nobg', ''),
    'OBJ_BG': ('main_split', ''),
    'PB_T50_RS': ('main_split', '_augmentedrot_scale75'),
}
SETTINGS_FILE = 'synthetic_settings.json'
NUM_POINTS = 2048


def variant_file(variant: str, split: str) -> str:
    """The h5 path of a variant and split, relative to the data root.

    Args:
        variant (str): 'OBJ_ONLY', 'OBJ_BG' or 'PB_T50_RS'.
        split (str): 'train' or 'test'.

    Returns:
        str: e.g. ``main_split/training_objectdataset.h5``.
    """
    if variant not in VARIANTS:
        raise ValueError(f'unknown ScanObjectNN variant {variant!r}; valid: '
                         f'{sorted(VARIANTS)}')
    if split not in ('train', 'test'):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder, suffix = VARIANTS[variant]
    prefix = 'training' if split == 'train' else 'test'
    return f'{folder}/{prefix}_objectdataset{suffix}.h5'


@dataclass
class ScanObjectNNSynthConfig:
    """Size and content of a synthetic ScanObjectNN data set.

    Args:
        variants (Sequence[str]): Variants to write. Defaults to
            ('OBJ_BG', ).
        num_train (int): Mean training objects per class. Defaults to 16.
        num_test (int): Mean test objects per class. Defaults to 6.
        num_augment (int): Perturbed copies per training object in
            PB_T50_RS (test: 1). Defaults to 2.
        jitter (float): Shape parameter jitter. Defaults to 0.15.
        noise (float): Range noise std (unit-sphere units). Defaults to
            0.01.
        classes (Sequence[str]): Class names. Defaults to ScanObjectNN's.
        min_separation (float): Smallest separation between two classes
            in log-parameter units (see
            :func:`~distill3d.datasets.synthetic.shapes.make_prototypes`);
            e.g. ``3 * jitter`` removes classes that no classifier can
            tell apart. Defaults to 0 (the data of earlier studies).
        shared_proportions (bool): Classes of one structural family share
            its first class's proportions and differ in their discrete
            kinds only (primitive, part counts, arms, ...): a fine-grained
            set that takes shape details to tell apart; use it with
            ``min_separation`` > 0, else two classes may come out
            identical. Defaults to False.
        subtypes (int): Prototypes per class
            (:func:`~distill3d.datasets.synthetic.shapes.make_class_subtypes`):
            object ``i`` of a class is an instance of its subtype
            ``i % subtypes``, so each split holds every subtype about
            equally. More than 1 makes every class a mixture of distinct
            shapes (more capacity to recognise); needs ``min_separation``
            > 0 and excludes ``shared_proportions``. Defaults to 1 (the
            data of earlier studies).
    """
    variants: Sequence[str] = ('OBJ_BG', )
    num_train: int = 16
    num_test: int = 6
    num_augment: int = 2
    jitter: float = 0.15
    noise: float = 0.01
    classes: Sequence[str] = SCANOBJECTNN_CLASSES
    min_separation: float = 0.
    shared_proportions: bool = False
    subtypes: int = 1


def _view_cull(points: np.ndarray, normals: np.ndarray,
               view: np.ndarray) -> np.ndarray:
    """Mask of the points whose surface faces the sensor at ``view``."""
    return ((view[None] - points) * normals).sum(1) > 0


def _scan_object(proto, rng: np.random.Generator, cfg: ScanObjectNNSynthConfig
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A partial scan of one object with its clutter.

    Returns:
        tuple: object points (N, 3), background points (M, 3) (floor and
        clutter, in the object's frame) and the sensor position (3, ).
    """
    pts, nrm = sample_instance(proto, 6000, rng, cfg.jitter, 0.)
    azim = rng.uniform(0, 2 * np.pi)
    elev = rng.uniform(np.deg2rad(10), np.deg2rad(45))
    view = 3. * np.array([np.cos(azim) * np.cos(elev),
                          np.sin(azim) * np.cos(elev), np.sin(elev)])
    keep = _view_cull(pts, nrm, view)
    if rng.uniform() < 0.5:  # an occluder cuts a slab off the object
        d = rng.normal(size=3)
        d[2] = abs(d[2]) * 0.3
        d /= np.linalg.norm(d)
        keep &= pts @ d < rng.uniform(0.2, 0.8)
    obj = pts[keep]
    lo, hi = obj.min(0), obj.max(0)
    extent = hi - lo
    # background: a floor patch and parts of clutter objects around it
    floor = Part('box', (extent[0] * 2.5 + 0.5, extent[1] * 2.5 + 0.5, 0.01),
                 ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2] - 0.01))
    bg_parts = [floor]
    for _ in range(int(rng.integers(1, 4))):
        ang = rng.uniform(0, 2 * np.pi)
        dist = np.linalg.norm(extent[:2]) / 2 + rng.uniform(0.05, 0.5)
        size = rng.uniform(0.2, 1.0, 3)
        bg_parts.append(Part('box', tuple(size),
                             (np.cos(ang) * dist, np.sin(ang) * dist,
                              lo[2] + size[2] / 2)))
    bg, bg_nrm = sample_surface(bg_parts, 6000, rng)
    bg = bg[_view_cull(bg, bg_nrm, view)]
    return obj, bg, view


def _crop(obj: np.ndarray, bg: np.ndarray, variant: str,
          rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Points of the variant's box: (P, 3) points and (P, ) mask."""
    lo, hi = obj.min(0), obj.max(0)
    centre, half = (lo + hi) / 2, (hi - lo) / 2
    if variant == 'OBJ_ONLY':
        return obj, np.ones(len(obj), np.int32)
    yaw = 0.
    if variant == 'OBJ_BG':
        half = half * 1.1 + 0.02
    else:  # PB_T50_RS: translate by up to 50%, rotate, scale
        centre = centre + rng.uniform(-0.5, 0.5, 3) * half * 2 * \
            np.array([1., 1., 0.5])
        yaw = rng.uniform(0, 2 * np.pi)
        half = half * rng.uniform(0.9, 1.3) + 0.02
    allp = np.concatenate([obj, bg])
    mask = np.concatenate([np.ones(len(obj), np.int32),
                           -np.ones(len(bg), np.int32)])
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    local = (allp - centre) @ rot
    inside = (np.abs(local) <= half).all(1)
    return local[inside], mask[inside]


def _to_fixed(points: np.ndarray, mask: np.ndarray, noise: float,
              rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Resample to NUM_POINTS, add noise, centre, scale to the unit
    sphere."""
    replace = len(points) < NUM_POINTS
    idx = rng.choice(len(points), NUM_POINTS, replace=replace)
    pts, mask = points[idx], mask[idx]
    pts = pts - (pts.max(0) + pts.min(0)) / 2
    pts = pts / max(np.linalg.norm(pts, axis=1).max(), 1e-12)
    pts = pts + rng.normal(0, noise, pts.shape)
    return pts.astype(np.float32), mask.astype(np.int32)


def _class_counts(num: int, num_classes: int,
                  rng: np.random.Generator) -> np.ndarray:
    factors = rng.uniform(0.5, 1.5, num_classes)
    return np.maximum(1, np.round(num * factors)).astype(int)


def create_scanobjectnn_dataset(
        out_dir: str, seed: int = 0,
        cfg: Optional[ScanObjectNNSynthConfig] = None) -> Dict[str, object]:
    """Write a synthetic ScanObjectNN data set.

    The same objects (and views) are used by every variant; only the crop
    differs, as in the real data set.

    Args:
        out_dir (str): Output root (the data set's ``data_root``).
        seed (int): Seed; the same seed and config give the same arrays.
        cfg (ScanObjectNNSynthConfig, optional): Sizes and variants.

    Returns:
        dict: ``files`` (variant -> {split: (path, num samples)}) and
        ``background_fraction`` (variant -> mean share of background
        points).
    """
    import h5py
    cfg = cfg or ScanObjectNNSynthConfig()
    for variant in cfg.variants:
        variant_file(variant, 'train')  # validate early
    classes = list(cfg.classes)
    if cfg.subtypes > 1:
        if cfg.shared_proportions:
            raise ValueError('ScanObjectNNSynthConfig: subtypes > 1 and '
                             'shared_proportions cannot be combined')
        protos = make_class_subtypes(classes, seed + 104729, cfg.subtypes,
                                     cfg.min_separation)
    else:
        protos = [[proto] for proto in make_prototypes(
            classes, seed + 104729, min_separation=cfg.min_separation,
            shared_proportions=cfg.shared_proportions)]
    count_rng = np.random.default_rng([seed, 31])
    counts = dict(train=_class_counts(cfg.num_train, len(classes), count_rng),
                  test=_class_counts(cfg.num_test, len(classes), count_rng))
    scans: Dict[str, List[Tuple[int, np.ndarray, np.ndarray, int]]] = dict(
        train=[], test=[])
    for split, split_id in (('train', 0), ('test', 1)):
        for label, subtypes in enumerate(protos):
            for i in range(int(counts[split][label])):
                rng = np.random.default_rng([seed, split_id, label, i])
                proto = subtypes[i % len(subtypes)]
                obj, bg, _ = _scan_object(proto, rng, cfg)
                scans[split].append((label, obj, bg, i))
    files: Dict[str, Dict[str, Tuple[str, int]]] = {}
    bg_share: Dict[str, float] = {}
    for v_id, variant in enumerate(cfg.variants):
        files[variant] = {}
        shares = []
        for split, split_id in (('train', 0), ('test', 1)):
            copies = cfg.num_augment if (variant == 'PB_T50_RS'
                                         and split == 'train') else 1
            data, labels, masks = [], [], []
            for label, obj, bg, i in scans[split]:
                for copy in range(copies):
                    rng = np.random.default_rng(
                        [seed, 7, v_id, split_id, label, i, copy])
                    pts, mask = _crop(obj, bg, variant, rng)
                    if (mask > 0).sum() < 32:  # the box missed the object
                        pts, mask = _crop(obj, bg, 'OBJ_BG', rng)
                    pts, mask = _to_fixed(pts, mask, cfg.noise, rng)
                    data.append(pts)
                    labels.append(label)
                    masks.append(mask)
                    shares.append(float((mask < 0).mean()))
            rel = variant_file(variant, split)
            path = osp.join(out_dir, rel)
            os.makedirs(osp.dirname(path), exist_ok=True)
            with h5py.File(path, 'w') as f:
                f.create_dataset('data', data=np.stack(data))
                f.create_dataset('label', data=np.asarray(labels, np.int64))
                f.create_dataset('mask', data=np.stack(masks))
            files[variant][split] = (rel, len(data))
        bg_share[variant] = float(np.mean(shares))
    with open(osp.join(out_dir, 'shape_names.txt'), 'w') as f:
        f.write('\n'.join(classes) + '\n')
    settings = dict(seed=seed, generator='distill3d synthetic ScanObjectNN',
                    **asdict(cfg))
    settings['classes'] = classes
    settings['variants'] = list(cfg.variants)
    with open(osp.join(out_dir, SETTINGS_FILE), 'w') as f:
        json.dump(settings, f, indent=1)
    return dict(files=files, background_fraction=bg_share)
