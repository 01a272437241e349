"""Build M2SKD's per-frame instance index from a SemanticKITTI root.

Usage (from the repository root):
    python projects/M2SKD/tools/build_instance_index.py DATA_ROOT
        [--sequences 00 01 ...] [--index-dir instance_index]

Writes ``DATA_ROOT/sequences/<seq>/<index-dir>/<frame>.npz`` with the
points, semantic and instance ids of every thing-class instance of the
frame (see ``distill3d.datasets.instance_index``). Then set
``index_dir='instance_index'`` in ``MultiScanHardInstanceFusion`` so that
the fusion reads these small files instead of whole earlier scans.
"""
import argparse
import time

from distill3d.datasets.instance_index import INDEX_DIR, build_instance_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root')
    parser.add_argument('--sequences', nargs='+')
    parser.add_argument('--index-dir', default=INDEX_DIR)
    args = parser.parse_args()
    start = time.time()
    done = build_instance_index(args.data_root, args.sequences,
                                index_dir=args.index_dir)
    for seq, n in done.items():
        print(f'sequence {seq}: {n} frames indexed')
    print(f'done in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
