"""Build M2SKD's per-frame instance index from a SemanticKITTI root.

Usage (from the repository root):
    python projects/M2SKD/tools/build_instance_index.py DATA_ROOT
        [--sequences 00 01 ...] [--index-dir instance_index]
        [--config CONFIG]

Writes ``DATA_ROOT/sequences/<seq>/<index-dir>/<frame>.npz`` with the
points, semantic and instance ids of every thing-class instance of the
frame (see ``distill3d.datasets.instance_index``). The raw label ids of
the thing classes come from the data set's ``labels_map``: mmdet3d's
SemanticKITTI one, or that of ``--config`` (its ``labels_map``, or
``metainfo.seg_label_mapping``, and ``class_names``). Then set
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
    parser.add_argument('--config',
                        help="config whose data set's labels_map to use")
    args = parser.parse_args()
    labels_map = class_names = None
    if args.config:
        import distill3d  # noqa: F401  (distill3d:: config scope)
        from mmengine.config import Config
        cfg = Config.fromfile(args.config)
        labels_map = cfg.get('labels_map') or \
            cfg.get('metainfo', {}).get('seg_label_mapping')
        if labels_map is None:
            raise KeyError(f'{args.config} has no labels_map (nor '
                           'metainfo.seg_label_mapping)')
        class_names = cfg.get('class_names') or \
            cfg.get('metainfo', {}).get('classes')
    start = time.time()
    done = build_instance_index(args.data_root, args.sequences,
                                index_dir=args.index_dir,
                                labels_map=labels_map,
                                class_names=class_names)
    for seq, n in done.items():
        print(f'sequence {seq}: {n} frames indexed')
    print(f'done in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
