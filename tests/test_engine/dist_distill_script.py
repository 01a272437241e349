"""One rank of a distributed distillation run (helper of test_distributed).

Run by ``python -m torch.distributed.run --nproc_per_node 2
tests/test_engine/dist_distill_script.py CONFIG --data-root DIR --work-dir
DIR --out-dir DIR [--teacher-ckpt CKPT] [--stop-iter N] [--cfg-options
...]``.

The config is built by ``tools/train.py``'s own ``build_cfg`` with
``--launcher pytorch`` (gloo and ``device_ids=None`` on CPU through
``use_gloo_on_cpu``), then re-pointed at the data root and sized for a few
iterations (``--stop-iter`` adds a ``StopDistillHook``). Each rank
writes ``student_init_rank{R}.pth`` (the student when training starts,
after weight init and the broadcast) and ``student_rank{R}.pth`` (after
training) to ``--out-dir``, the same for every trained parameter of the
distiller (``*_trained_rank{R}.pth``), plus ``info_rank{R}.json``.
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_train_tool():
    """``tools/train.py`` as a module."""
    spec = importlib.util.spec_from_file_location(
        'distill3d_train_tool', osp.join(REPO, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    parser.add_argument('--data-root', required=True)
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--teacher-ckpt', default=None)
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--stop-iter', type=int, default=None)
    parser.add_argument('--cfg-options', nargs='+', default=[])
    args = parser.parse_args()

    sys.argv = [
        'tools/train.py', args.config, '--work-dir', args.work_dir,
        '--launcher', 'pytorch'
    ] + (['--cfg-options'] + args.cfg_options if args.cfg_options else [])
    train = load_train_tool()  # imports distill3d first, like the tool
    import torch
    from mmengine.hooks import Hook
    from mmengine.model import is_model_wrapper
    from mmengine.registry import RUNNERS

    from distill3d.utils import set_data_root

    cfg = train.build_cfg(train.parse_args())
    set_data_root(cfg, args.data_root)
    cfg.teacher_ckpt = args.teacher_ckpt
    cfg.train_cfg.max_epochs = 1
    cfg.train_dataloader.batch_size = args.batch_size
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    # training only: no validation loop
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.randomness = dict(seed=0)
    if args.stop_iter is not None:
        cfg.custom_hooks = [
            dict(type='StopDistillHook', stop_iter=args.stop_iter)
        ]

    rank = int(os.environ['RANK'])
    os.makedirs(args.out_dir, exist_ok=True)

    def student_of(runner):
        model = runner.model
        return (model.module if is_model_wrapper(model) else model).student

    def save_student(runner, name):
        state = {
            k: v.detach().cpu().clone()
            for k, v in student_of(runner).state_dict().items()
        }
        torch.save(state, osp.join(args.out_dir, f'{name}_rank{rank}.pth'))
        # everything the run trains (student, adapters, discriminators)
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        trained = {
            k: v.detach().cpu().clone()
            for k, v in model.named_parameters() if v.requires_grad
        }
        torch.save(trained,
                   osp.join(args.out_dir, f'{name}_trained_rank{rank}.pth'))

    class SaveInitHook(Hook):

        def before_train(self, runner) -> None:
            save_student(runner, 'student_init')

    runner = RUNNERS.build(cfg)
    runner.register_hook(SaveInitHook(), priority='VERY_LOW')
    runner.train()
    save_student(runner, 'student')
    info = dict(
        rank=rank,
        world_size=torch.distributed.get_world_size(),
        backend=torch.distributed.get_backend(),
        wrapper=type(runner.model).__name__,
        find_unused_parameters=getattr(runner.model,
                                       'find_unused_parameters', None),
        broadcast_buffers=getattr(runner.model, 'broadcast_buffers', None),
        distill_enabled=runner.model.module.distill_enabled,
        iters=runner.iter,
        epoch=runner.epoch)
    with open(osp.join(args.out_dir, f'info_rank{rank}.json'), 'w') as f:
        json.dump(info, f)


if __name__ == '__main__':
    main()
