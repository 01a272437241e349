"""Validate a data set before a long run; list every bad file.

Usage:
    python tools/check_data.py DATA_ROOT
        --format kitti|semantickitti|modelnet40|scanobjectnn
        [--pts-prefix DIR] [--mask-prefix DIR]

Reads every info / split file of the folder and checks each file it names
(present, point files a whole number of points, one label per point,
class ids in range). Prints what it read and every problem; exits 1 when
there is any.
"""
import argparse
import sys

from distill3d.datasets.check import FORMATS, check_data


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='data set folder (data_root)')
    parser.add_argument('--format', required=True, choices=FORMATS)
    parser.add_argument(
        '--pts-prefix',
        help="KITTI / SemanticKITTI: folder of the infos' lidar_path under "
        "the root (the config's data_prefix.pts; default "
        "'training/velodyne_reduced' for KITTI, '' for SemanticKITTI)")
    parser.add_argument(
        '--mask-prefix', default='',
        help="SemanticKITTI: folder of the infos' pts_semantic_mask_path "
        "(the config's data_prefix.pts_semantic_mask)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    options = {}
    if args.pts_prefix is not None:
        options['pts_prefix'] = args.pts_prefix
    if args.format == 'semantickitti':
        options['mask_prefix'] = args.mask_prefix
    report = check_data(args.root, args.format, **options)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
