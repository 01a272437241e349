"""Count the multiply-accumulates (MACs) of one forward pass of a model.

Usage:
    python tools/count_flops.py CONFIG [CONFIG ...] [--data-root DIR]
        [--index 0]

Runs the config's model (the student for a distillation config) in predict
mode on one sample of its test data set and sums, through forward hooks,
the MACs of dense convolutions (1d/2d/3d, transposed) and linear layers:
output elements x input channels per group x kernel volume. Sparse
convolutions (spconv, mmcv) and point ops are not counted; the tool says
how many such layers ran. Papers that report "FLOPs" for PointPillars count
MACs this way (dense BEV layers dominate).
"""
import argparse

import distill3d  # noqa: F401
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmdet3d.registry import DATASETS, MODELS
from mmdet3d.utils import register_all_modules
from distill3d.benchmark.complexity import count_macs, count_params
from distill3d.engine import build_distill_cfg
from distill3d.utils import set_data_root

__all__ = ['count_macs']


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--data-root')
    parser.add_argument('--index', type=int, default=0)
    args = parser.parse_args()
    register_all_modules()
    for path in args.configs:
        cfg = Config.fromfile(path)
        if 'distiller' in cfg:
            cfg = build_distill_cfg(cfg)
            cfg.model = cfg.model.student
        if args.data_root:
            set_data_root(cfg, args.data_root)
        model = MODELS.build(cfg.model).eval()
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        stats = count_macs(model, pseudo_collate([dataset[args.index]]))
        params = count_params(model)
        note = f", {stats['uncounted_layers']} sparse-conv layer calls " \
            'not counted' if stats['uncounted_layers'] else ''
        print(f'{path}: params {params / 1e6:.2f}M, '
              f'{stats["macs"] / 1e9:.2f} GMACs (dense/linear)' + note)


if __name__ == '__main__':
    main()
