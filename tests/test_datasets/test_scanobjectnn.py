"""Synthetic ScanObjectNN h5 files (real names and datasets), read by
ScanObjectNNDataset."""
import os.path as osp

import h5py
import numpy as np
import pytest

PIPELINE = [
    dict(type='ClsPointSample', num_points=256, method='first'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(type='PackPointClsInputs')
]


@pytest.fixture(autouse=True, scope='module')
def _scope():
    from mmdet3d.utils import register_all_modules
    register_all_modules()  # default scope mmdet3d for the pipelines


@pytest.fixture(scope='module')
def scanobjectnn(tmp_path_factory):
    from distill3d.datasets.synthetic.scanobjectnn import (
        ScanObjectNNSynthConfig, create_scanobjectnn_dataset)
    root = str(tmp_path_factory.mktemp('sonn'))
    stats = create_scanobjectnn_dataset(
        root, seed=0,
        cfg=ScanObjectNNSynthConfig(
            variants=('OBJ_ONLY', 'OBJ_BG', 'PB_T50_RS'), num_train=3,
            num_test=2, num_augment=2))
    return root, stats


def test_h5_files(scanobjectnn):
    root, stats = scanobjectnn
    files = {
        'main_split_nobg/training_objectdataset.h5',
        'main_split/training_objectdataset.h5',
        'main_split/test_objectdataset.h5',
        'main_split/training_objectdataset_augmentedrot_scale75.h5',
        'main_split/test_objectdataset_augmentedrot_scale75.h5'
    }
    for rel in files:
        with h5py.File(osp.join(root, rel), 'r') as f:
            assert set(f.keys()) == {'data', 'label', 'mask'}
            data, label, mask = f['data'][:], f['label'][:], f['mask'][:]
        assert data.dtype == np.float32 and data.shape[1:] == (2048, 3)
        assert label.shape == (len(data), ) and mask.shape == data.shape[:2]
        assert label.min() >= 0 and label.max() < 15
    n_bg = stats['files']['OBJ_BG']['train'][1]
    n_pb = stats['files']['PB_T50_RS']['train'][1]
    assert n_pb == 2 * n_bg  # num_augment perturbed copies
    # no background without it, background with it, more when perturbed
    share = stats['background_fraction']
    assert share['OBJ_ONLY'] == 0
    assert 0.03 < share['OBJ_BG'] < 0.6
    with h5py.File(osp.join(root, 'main_split/test_objectdataset.h5')) as f:
        assert (f['mask'][:] == -1).any() and (f['mask'][:] == 1).any()
    # classes are imbalanced
    with h5py.File(osp.join(root, 'main_split/training_objectdataset.h5'),
                   'r') as f:
        counts = np.bincount(f['label'][:], minlength=15)
    assert counts.min() >= 1 and counts.max() > counts.min()


@pytest.mark.parametrize('variant', ['OBJ_ONLY', 'OBJ_BG', 'PB_T50_RS'])
def test_dataset_reads_variant(scanobjectnn, variant):
    from mmdet3d.registry import DATASETS
    root, stats = scanobjectnn
    train = DATASETS.build(
        dict(type='ScanObjectNNDataset', data_root=root, variant=variant,
             pipeline=PIPELINE))
    test = DATASETS.build(
        dict(type='ScanObjectNNDataset', data_root=root, variant=variant,
             pipeline=PIPELINE, test_mode=True))
    assert len(train) == stats['files'][variant]['train'][1]
    assert len(test) == stats['files'][variant]['test'][1]
    assert train.metainfo['classes'][4] == 'chair'
    rel = stats['files'][variant]['test'][0]
    with h5py.File(osp.join(root, rel), 'r') as f:
        raw, label = f['data'][3], int(f['label'][3])
    out = test[3]
    assert out['inputs']['points'].shape == (256, 3)
    assert out['data_samples'].gt_label.tolist() == [label]
    xyz = raw[:256] - raw[:256].mean(0)
    xyz /= np.linalg.norm(xyz, axis=1).max()
    np.testing.assert_allclose(out['inputs']['points'].numpy(), xyz,
                               atol=1e-5)


def test_bad_variant_and_missing_file(tmp_path):
    from mmdet3d.registry import DATASETS
    with pytest.raises(ValueError, match='PB_T50_RS'):
        DATASETS.build(dict(type='ScanObjectNNDataset',
                            data_root=str(tmp_path), variant='PB_T25'))
    with pytest.raises(FileNotFoundError, match='create_synthetic_data'):
        DATASETS.build(dict(type='ScanObjectNNDataset',
                            data_root=str(tmp_path)))


def test_min_separation_redraws_indistinguishable_classes():
    """Seed 0 draws display, door and pillow as near-identical ellipsoids
    (a random yaw swaps the horizontal extents); ``min_separation`` redraws
    them apart, keeps classes that already were, and 0 changes nothing."""
    from distill3d.datasets.synthetic.modelnet40 import MODELNET40_CLASSES
    from distill3d.datasets.synthetic.scanobjectnn import SCANOBJECTNN_CLASSES
    from distill3d.datasets.synthetic.shapes import (make_prototypes,
                                                      prototype_separation)

    def nearest(protos):
        return [min(prototype_separation(p, q) for q in protos if q is not p)
                for p in protos]

    old = make_prototypes(SCANOBJECTNN_CLASSES, 104729)
    assert min(nearest(old)) < 0.1  # display vs pillow
    # the prototypes of the code before the option (commit b04f206)
    assert _fingerprint(old) == 'fdd454aaa7fefc77'
    assert _fingerprint(make_prototypes(MODELNET40_CLASSES, 0)) == \
        'e0b30b62f6c418f3'
    new = make_prototypes(SCANOBJECTNN_CLASSES, 104729, min_separation=0.45)
    assert min(nearest(new)) >= 0.45
    kept = [a == b for a, b in zip(old, new)]
    assert kept[:6] == [True] * 6 and not all(kept)
    # yaw and scale do not separate: swapped and scaled extents are 0 apart
    p = old[6]
    q = type(p)(p.name, p.family, dict(
        p.params, sx=2 * p.params['sy'], sy=2 * p.params['sx'],
        sz=2 * p.params['sz']), p.kinds)
    assert prototype_separation(p, q) < 1e-9
    # another family or other kinds are infinitely apart
    assert prototype_separation(old[0], old[1]) == float('inf')
    # signed offsets (a cross's wing position) count as plain differences
    cross = [p for p in make_prototypes(MODELNET40_CLASSES, 0)
             if p.family == 'cross']
    a = cross[0]
    b = type(a)(a.name, a.family, dict(a.params, pos=-a.params['pos']),
                a.kinds)
    assert prototype_separation(a, b) == pytest.approx(
        2 * abs(a.params['pos']))
    with pytest.raises(ValueError, match='max_draws'):
        make_prototypes(SCANOBJECTNN_CLASSES, 0, min_separation=0.45,
                        max_draws=0)


def _fingerprint(protos) -> str:
    """A hash of the prototypes' names, families, kinds and parameters."""
    import hashlib
    import json
    return hashlib.sha256(json.dumps(
        [[p.name, p.family, p.kinds, p.params] for p in protos],
        sort_keys=True).encode()).hexdigest()[:16]


def test_too_few_kinds_warn():
    """ModelNet40 has 13 single-primitive classes and 5 primitives: with
    shared proportions some classes cannot be separated, and say so."""
    from distill3d.datasets.synthetic.modelnet40 import MODELNET40_CLASSES
    from distill3d.datasets.synthetic.shapes import make_prototypes
    with pytest.warns(UserWarning, match='min_separation'):
        make_prototypes(MODELNET40_CLASSES, 0, min_separation=0.45,
                        shared_proportions=True, max_draws=5)


def test_shared_proportions_make_classes_differ_in_parts_only():
    """With shared proportions, the classes of a family have its first
    class's continuous parameters and distinct discrete kinds."""
    from distill3d.datasets.synthetic.scanobjectnn import SCANOBJECTNN_CLASSES
    from distill3d.datasets.synthetic.shapes import make_prototypes
    protos = make_prototypes(SCANOBJECTNN_CLASSES, 104729,
                             min_separation=0.45, shared_proportions=True)
    by_family = {}
    for p in protos:
        by_family.setdefault(p.family, []).append(p)
    assert len(by_family['single']) == 5 and len(by_family['seat']) == 4
    for members in by_family.values():
        for p in members[1:]:
            assert p.params == members[0].params
        kinds = [repr(sorted(p.kinds.items())) for p in members]
        assert len(set(kinds)) == len(kinds)
    # the first class of each family is drawn as without the option
    plain = make_prototypes(SCANOBJECTNN_CLASSES, 104729,
                            min_separation=0.45)
    assert protos[0] == plain[0] and protos[3] == plain[3]


@pytest.mark.parametrize('option,key,value', [
    ('--shared-proportions', 'shared_proportions', True),
    ('--subtypes=2', 'subtypes', 2),
])
def test_cli_passes_the_class_options(tmp_path, monkeypatch, option, key,
                                      value):
    """tools/create_synthetic_data.py scanobjectnn --min-separation
    --shared-proportions / --subtypes reach the generator (its settings
    file)."""
    import json
    import runpy
    import sys

    from helpers import REPO
    out = str(tmp_path / 'sonn')
    monkeypatch.setattr(sys, 'argv', [
        'create_synthetic_data.py', 'scanobjectnn', '--out-dir', out,
        '--num-train', '1', '--num-test', '1', '--min-separation', '0.45',
        option
    ])
    runpy.run_path(osp.join(REPO, 'tools', 'create_synthetic_data.py'),
                   run_name='__main__')
    with open(osp.join(out, 'synthetic_settings.json')) as f:
        settings = json.load(f)
    assert settings['min_separation'] == 0.45
    assert settings[key] == value


def test_subtypes_make_every_class_a_separated_mixture():
    """Each class gets K prototypes of its family; subtype 0 is the
    class's one-prototype draw; no two prototypes (same class or not) lie
    closer than min_separation; nonsense settings are refused."""
    import warnings

    from distill3d.datasets.synthetic.scanobjectnn import SCANOBJECTNN_CLASSES
    from distill3d.datasets.synthetic.shapes import (family_of,
                                                      make_class_subtypes,
                                                      make_prototypes,
                                                      prototype_separation)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # every prototype finds its margin
        classes = make_class_subtypes(SCANOBJECTNN_CLASSES, 104729, 3, 0.45)
    single = make_prototypes(SCANOBJECTNN_CLASSES, 104729,
                             min_separation=0.45)
    assert [subtypes[0] for subtypes in classes] == single
    flat = []
    for i, subtypes in enumerate(classes):
        assert len(subtypes) == 3
        for proto in subtypes:
            assert proto.name == SCANOBJECTNN_CLASSES[i]
            assert proto.family == family_of(proto.name, i)
            flat.append(proto)
    assert len({repr(p) for p in flat}) == 45  # all distinct
    nearest = min(prototype_separation(p, q) for a, p in enumerate(flat)
                  for q in flat[a + 1:])
    assert nearest >= 0.45
    assert make_class_subtypes(SCANOBJECTNN_CLASSES, 104729, 1, 0.45) == \
        [[p] for p in single]
    with pytest.raises(ValueError, match='subtypes must be'):
        make_class_subtypes(SCANOBJECTNN_CLASSES, 0, 0, 0.45)
    with pytest.raises(ValueError, match='min_separation > 0'):
        make_class_subtypes(SCANOBJECTNN_CLASSES, 0, 2, 0.)


def test_subtypes_assign_objects_in_turn(tmp_path):
    """Object i of a class is an instance of subtype i % K: with K = 2 the
    even objects are the ones of the one-prototype set (same prototype,
    same random stream) and the odd ones are not."""
    from distill3d.datasets.synthetic.scanobjectnn import (
        ScanObjectNNSynthConfig, create_scanobjectnn_dataset)

    def objects(subtypes):
        root = str(tmp_path / f'k{subtypes}')
        create_scanobjectnn_dataset(root, seed=0, cfg=ScanObjectNNSynthConfig(
            variants=('OBJ_ONLY', ), num_train=2, num_test=1,
            min_separation=0.45, subtypes=subtypes,
            classes=('chair', 'sofa', 'bed')))
        with h5py.File(osp.join(
                root, 'main_split_nobg/training_objectdataset.h5')) as f:
            return f['data'][:], f['label'][:]

    one, labels = objects(1)
    two, labels2 = objects(2)
    np.testing.assert_array_equal(labels, labels2)
    index = np.concatenate([np.arange((labels == c).sum()) for c in
                            range(3)])  # object number within its class
    assert (index % 2 == 1).any()
    for k in range(len(labels)):
        same = np.array_equal(one[k], two[k])
        assert same == (index[k] % 2 == 0), (k, labels[k], index[k])
    with pytest.raises(ValueError, match='shared_proportions'):
        create_scanobjectnn_dataset(
            str(tmp_path / 'bad'), cfg=ScanObjectNNSynthConfig(
                min_separation=0.45, subtypes=2, shared_proportions=True))
