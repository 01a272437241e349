# Copyright (c) distill3d contributors. All rights reserved.
"""Generate deterministic synthetic data sets in the real on-disk formats.

Examples::

    # KITTI (120 train + 30 val frames) readable by mmdet3d's KittiDataset
    python tools/create_synthetic_data.py kitti --out-dir data/kitti_synth

    # SemanticKITTI (sequences 00-02 train, 08 val, 20 scans each)
    python tools/create_synthetic_data.py semantickitti \\
        --out-dir data/semantickitti_synth --frames-per-seq 20

    # ModelNet40 (modelnet40_normal_resampled layout, 40 x (10 + 4) shapes)
    python tools/create_synthetic_data.py modelnet40 \\
        --out-dir data/synthetic_modelnet40

    # ScanObjectNN (h5 files of the OBJ_BG and PB_T50_RS variants)
    python tools/create_synthetic_data.py scanobjectnn \\
        --out-dir data/synthetic_scanobjectnn --variant OBJ_BG PB_T50_RS

The same ``--seed`` and options give byte-identical files.
"""
import argparse
import time

import numpy as np
from mmengine.logging import print_log

from distill3d.datasets.synthetic.kitti import (KittiSynthConfig,
                                                create_kitti_dataset)
from distill3d.datasets.synthetic.lidar_sim import LidarConfig
from distill3d.datasets.synthetic.modelnet40 import (
    ModelNet40SynthConfig, create_modelnet40_dataset)
from distill3d.datasets.synthetic.scanobjectnn import (
    VARIANTS, ScanObjectNNSynthConfig, create_scanobjectnn_dataset)
from distill3d.datasets.synthetic.semantickitti import (
    SemanticKittiSynthConfig, create_semantickitti_dataset)


def add_lidar_args(parser: argparse.ArgumentParser) -> None:
    """Options of the simulated LiDAR shared by both data sets."""
    d = LidarConfig()
    g = parser.add_argument_group('simulated LiDAR')
    g.add_argument(
        '--beams',
        type=int,
        default=d.num_beams,
        help='number of lasers / rings (default: %(default)s)')
    g.add_argument(
        '--azimuth-res',
        type=float,
        default=d.azimuth_res,
        help='horizontal step in degrees; 360 / step columns per sweep '
        '(default: %(default)s)')
    g.add_argument(
        '--min-elevation',
        type=float,
        default=d.min_elevation,
        help='lowest beam elevation in degrees (default: %(default)s)')
    g.add_argument(
        '--max-elevation',
        type=float,
        default=d.max_elevation,
        help='highest beam elevation in degrees (default: %(default)s)')
    g.add_argument(
        '--upper-fraction',
        type=float,
        default=d.upper_fraction,
        help='fraction of the beams in the dense upper block above '
        f'{d.split_elevation} degrees (default: %(default)s)')
    g.add_argument(
        '--max-range',
        type=float,
        default=d.max_range,
        help='maximum range in metres (default: %(default)s)')
    g.add_argument(
        '--range-noise',
        type=float,
        default=d.range_noise,
        help='range noise std in metres (default: %(default)s)')
    g.add_argument(
        '--dropout',
        type=float,
        default=d.dropout,
        help='probability to lose a close return, doubling at max range '
        '(default: %(default)s)')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a deterministic synthetic KITTI or '
        'SemanticKITTI data set (ray-cast LiDAR scans of street scenes), '
        'or a ModelNet40 / ScanObjectNN classification data set (shapes '
        'composed of parametric primitives), in the real on-disk formats.')
    sub = parser.add_subparsers(dest='dataset', required=True)

    kitti = sub.add_parser(
        'kitti',
        help='KITTI 3D detection: training/{velodyne,velodyne_reduced,'
        'label_2,calib,planes}, ImageSets, kitti_infos_*.pkl, '
        'kitti_dbinfos_train.pkl and kitti_gt_database')
    kd = KittiSynthConfig()
    kitti.add_argument(
        '--num-train',
        type=int,
        default=kd.num_train,
        help='number of training frames (default: %(default)s)')
    kitti.add_argument(
        '--num-val',
        type=int,
        default=kd.num_val,
        help='number of validation frames (default: %(default)s)')
    kitti.add_argument(
        '--num-cars',
        type=int,
        nargs=2,
        default=list(kd.num_cars),
        metavar=('MIN', 'MAX'),
        help='range of cars placed per scene (default: %(default)s)')
    kitti.add_argument(
        '--max-distance',
        type=float,
        default=kd.max_distance,
        help='largest forward distance of objects placed in the camera '
        'view, metres (default: %(default)s)')
    kitti.add_argument(
        '--ped-probs',
        type=float,
        nargs='+',
        default=list(kd.ped_probs),
        metavar='P',
        help='probabilities of placing 0, 1, 2, ... pedestrians in a scene '
        '(default: %(default)s)')
    kitti.add_argument(
        '--cyc-probs',
        type=float,
        nargs='+',
        default=list(kd.cyc_probs),
        metavar='P',
        help='probabilities of placing 0, 1, 2, ... cyclists in a scene '
        '(default: %(default)s)')

    sk = sub.add_parser(
        'semantickitti',
        help='SemanticKITTI: sequences/XX/{velodyne,labels,poses.txt,'
        'calib.txt,times.txt} and semantickitti_infos_*.pkl')
    sd = SemanticKittiSynthConfig()
    sk.add_argument(
        '--train-seqs',
        type=int,
        nargs='*',
        default=list(sd.train_seqs),
        help='training sequence numbers (default: %(default)s)')
    sk.add_argument(
        '--val-seqs',
        type=int,
        nargs='*',
        default=list(sd.val_seqs),
        help='validation sequence numbers (default: %(default)s)')
    sk.add_argument(
        '--test-seqs',
        type=int,
        nargs='*',
        default=list(sd.test_seqs),
        help='test sequence numbers, labels included; none by default')
    sk.add_argument(
        '--frames-per-seq',
        type=int,
        default=sd.frames_per_seq,
        help='scans per sequence at 10 Hz (default: %(default)s)')
    sk.add_argument(
        '--moving-ids',
        action='store_true',
        help="label moving things with SemanticKITTI's moving-* ids "
        '(252-259) instead of their static ids')
    sk.add_argument(
        '--hard-rounds',
        type=int,
        default=sd.hard_rounds,
        help='rounds of rare kinds (M2SKD hard classes and moving cars) '
        'placed per sequence; a placement can fail (default: %(default)s)')

    for p in (kitti, sk):
        add_lidar_args(p)

    mn = sub.add_parser(
        'modelnet40',
        help='ModelNet40 (modelnet40_normal_resampled layout): <class>/'
        '<class>_NNNN.txt (x,y,z,nx,ny,nz), modelnet40_shape_names.txt, '
        'modelnet40_{train,test}.txt')
    md = ModelNet40SynthConfig()
    mn.add_argument(
        '--num-train',
        type=int,
        default=md.num_train,
        help='training shapes per class (default: %(default)s)')
    mn.add_argument(
        '--num-test',
        type=int,
        default=md.num_test,
        help='test shapes per class (default: %(default)s)')
    mn.add_argument(
        '--num-points',
        type=int,
        default=md.num_points,
        help='points per shape file; the real files hold 10000 '
        '(default: %(default)s)')
    so = sub.add_parser(
        'scanobjectnn',
        help='ScanObjectNN h5 files (main_split/, main_split_nobg/): data '
        '(N, 2048, 3), label (N, ), mask (N, 2048)')
    sd2 = ScanObjectNNSynthConfig()
    so.add_argument(
        '--variant',
        nargs='+',
        default=list(sd2.variants),
        choices=sorted(VARIANTS),
        help='variants to write (default: %(default)s)')
    so.add_argument(
        '--num-train',
        type=int,
        default=sd2.num_train,
        help='mean training objects per class (default: %(default)s)')
    so.add_argument(
        '--num-test',
        type=int,
        default=sd2.num_test,
        help='mean test objects per class (default: %(default)s)')
    so.add_argument(
        '--num-augment',
        type=int,
        default=sd2.num_augment,
        help='perturbed copies per training object in PB_T50_RS '
        '(default: %(default)s)')
    so.add_argument(
        '--min-separation',
        type=float,
        default=sd2.min_separation,
        help='redraw a class whose family, kinds and log proportions lie '
        'within this of an earlier class (e.g. 3 x jitter; 0: classes as '
        'drawn, some indistinguishable) (default: %(default)s)')
    so.add_argument(
        '--shared-proportions',
        action='store_true',
        help="classes of a family share its first class's proportions and "
        'differ in discrete kinds only (primitive, part counts): '
        'fine-grained')
    so.add_argument(
        '--subtypes',
        type=int,
        default=sd2.subtypes,
        help='distinct prototypes per class (each class a mixture of '
        'shapes; needs --min-separation > 0) (default: %(default)s)')
    for p in (mn, so):
        p.add_argument(
            '--jitter',
            type=float,
            default=md.jitter,
            help='std of the per-shape log-normal factor of every shape '
            'parameter; larger makes classes overlap more (default: '
            '%(default)s)')

    for p in (kitti, sk, mn, so):
        p.add_argument(
            '--out-dir', required=True, help='output root (data_root)')
        p.add_argument(
            '--seed',
            type=int,
            default=0,
            help='random seed; same seed, same bytes (default: %(default)s)')
    return parser.parse_args()


def create_classification(args: argparse.Namespace) -> None:
    """Write the ModelNet40 or ScanObjectNN data set of ``args``."""
    if args.dataset == 'modelnet40':
        cfg = ModelNet40SynthConfig(
            num_train=args.num_train,
            num_test=args.num_test,
            num_points=args.num_points,
            jitter=args.jitter)
        stats = create_modelnet40_dataset(args.out_dir, args.seed, cfg)
        families = {}
        for fam in stats['families'].values():
            families[fam] = families.get(fam, 0) + 1
        print_log(
            f"{stats['num_train']} train + {stats['num_test']} test shapes "
            f'of {len(cfg.classes)} classes, {cfg.num_points} points each; '
            f'classes per structural family: {families}', 'current')
    else:
        cfg = ScanObjectNNSynthConfig(
            variants=tuple(args.variant),
            num_train=args.num_train,
            num_test=args.num_test,
            num_augment=args.num_augment,
            jitter=args.jitter,
            min_separation=args.min_separation,
            shared_proportions=args.shared_proportions,
            subtypes=args.subtypes)
        stats = create_scanobjectnn_dataset(args.out_dir, args.seed, cfg)
        for variant, files in stats['files'].items():
            print_log(
                f'{variant}: ' + ', '.join(
                    f'{rel} ({num} samples)' for rel, num in files.values())
                + f", {100 * stats['background_fraction'][variant]:.1f}% "
                'background points', 'current')


def main() -> None:
    args = parse_args()
    if args.dataset in ('modelnet40', 'scanobjectnn'):
        start = time.time()
        print_log(
            f'generating synthetic {args.dataset} in {args.out_dir} '
            f'(seed {args.seed})', 'current')
        create_classification(args)
        print_log(f'done in {time.time() - start:.1f} s', 'current')
        return
    lidar = LidarConfig(
        num_beams=args.beams,
        azimuth_res=args.azimuth_res,
        min_elevation=args.min_elevation,
        max_elevation=args.max_elevation,
        upper_fraction=args.upper_fraction,
        max_range=args.max_range,
        range_noise=args.range_noise,
        dropout=args.dropout)
    start = time.time()
    print_log(
        f'generating synthetic {args.dataset} in {args.out_dir} '
        f'(seed {args.seed})', 'current')
    if args.dataset == 'kitti':
        cfg = KittiSynthConfig(
            num_train=args.num_train,
            num_val=args.num_val,
            lidar=lidar,
            num_cars=tuple(args.num_cars),
            ped_probs=tuple(args.ped_probs),
            cyc_probs=tuple(args.cyc_probs),
            max_distance=args.max_distance)
        stats = create_kitti_dataset(args.out_dir, args.seed, cfg)
        print_log(
            f"{stats['num_frames']} frames, "
            f"{np.mean(stats['num_points']):.0f} points per scan "
            f"({np.mean(stats['num_reduced']):.0f} in the camera view), "
            f"annotations: {stats['classes']}", 'current')
    else:
        cfg = SemanticKittiSynthConfig(
            train_seqs=tuple(args.train_seqs),
            val_seqs=tuple(args.val_seqs),
            test_seqs=tuple(args.test_seqs),
            frames_per_seq=args.frames_per_seq,
            lidar=lidar,
            moving_ids=args.moving_ids,
            hard_rounds=args.hard_rounds)
        stats = create_semantickitti_dataset(args.out_dir, args.seed, cfg)
        total = sum(stats['sem_counts'].values())
        share = ', '.join(f'{k}: {100 * v / total:.2f}%'
                          for k, v in sorted(stats['sem_counts'].items()))
        print_log(
            f"{stats['num_frames']} scans, "
            f"{np.mean(stats['num_points']):.0f} points per scan, "
            f'points per semantic id: {share}', 'current')
    print_log(f'done in {time.time() - start:.1f} s', 'current')


if __name__ == '__main__':
    main()
