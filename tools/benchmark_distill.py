"""Time a distillation step against student training plus teacher inference.

Usage:
    python tools/benchmark_distill.py CONFIG [--data-root DIR] [--steps 5]
        [--warmup 1] [--batch-size N] [--threads N] [--teacher-ckpt PATH]
        [--json OUT.json] [--cfg-options k=v ...]

CONFIG is a distillation config (``distiller`` + ``teacher_cfg``). The
distiller, its optimizer and the train dataloader are built exactly as
``tools/train.py`` builds them (mmengine Runner). ``--steps`` batches are
drawn once and every phase runs over the SAME batches:

* ``student_train``: ``distiller.train_step`` with ``distill_enabled=False``
  (the student's own forward, losses, backward and optimizer step; no
  teacher, no KD terms),
* ``teacher_infer``: the teacher as the distiller runs it in a step (its
  own data preprocessor and forward under ``no_grad``, stopping once the
  recorded modules have run),
* ``distill``: ``distiller.train_step`` with distillation on.

An adversarial distiller (FAD's ``AdversarialDistiller3D``, whose config
builds an ``OptimWrapperDict``) runs the same phases: ``student_train``
updates the student only, ``distill`` the student and then the
discriminator; the discriminators' parameters are reported.

The phases are interleaved step by step (after ``--warmup`` rounds), so that
a varying machine load affects them alike. Printed: median / min / max time
of each phase, the ratio ``distill / (student_train + teacher_infer)`` and
the peak memory of each phase; the last line is a one-line JSON summary
(also written to ``--json``). The process CPU time of each phase (all
threads) is reported as well, with its own ratio: on a shared machine it
varies less with the load of other processes than the wall time does.

Peak memory: on CUDA ``torch.cuda.max_memory_allocated`` (reset before each
phase run) minus the allocation at its start. On CPU the peak resident set
size of the phase run minus the resident size at its start: the kernel's
high-water mark (``VmHWM``) is reset through ``/proc/self/clear_refs`` and
freed heap memory is returned (``malloc_trim``) before each run, so a
phase does not profit from memory a previous phase left in the allocator.
Without ``clear_refs`` (non-Linux) the CPU peak is not reported.

Untrained teacher weights time like trained ones: when the config's
``teacher_ckpt`` does not exist, the teacher keeps its initialisation (a
note is printed); ``--teacher-ckpt`` overrides the config.
"""
import argparse
import ctypes
import gc
import json
import os.path as osp
import statistics
import time
from typing import Callable, Dict, List, Optional

import distill3d  # noqa: F401  (CPU support, safe globals, registries)
import torch
from mmengine.config import Config, DictAction
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS

from distill3d.engine import build_distill_cfg
from distill3d.utils import set_data_root

PHASES = ('student_train', 'teacher_infer', 'distill')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='distillation config')
    parser.add_argument('--data-root', help='point the config at this root')
    parser.add_argument(
        '--steps', type=int, default=5, help='timed steps per phase')
    parser.add_argument(
        '--warmup', type=int, default=1, help='untimed steps per phase')
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--teacher-ckpt',
        help="teacher checkpoint ('none': keep the teacher's initialisation)"
        "; default: the config's when the file exists")
    parser.add_argument('--work-dir', default='work_dirs/benchmark_distill')
    parser.add_argument('--json', help='also write the JSON summary here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0:
        parser.error('--steps must be >= 1 and --warmup >= 0')
    return args


def build_cfg(args: argparse.Namespace) -> Config:
    """The distillation config, sized for the benchmark."""
    cfg = Config.fromfile(args.config)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.model.get('type') != 'Distiller3D' and 'distiller' not in cfg:
        raise ValueError(f'{args.config} is not a distillation config (no '
                         '`distiller`, model is not Distiller3D)')
    if args.teacher_ckpt is not None:
        cfg.teacher_ckpt = None if args.teacher_ckpt.lower() == 'none' \
            else args.teacher_ckpt
    cfg = build_distill_cfg(cfg)
    ckpt = cfg.model.get('teacher_ckpt', None)
    if ckpt is not None and args.teacher_ckpt is None and \
            '://' not in ckpt and not osp.isfile(ckpt):
        print(f'note: teacher_ckpt {ckpt!r} does not exist; timing with the '
              "teacher's initial weights")
        cfg.model.teacher_ckpt = None
    if args.batch_size:
        cfg.train_dataloader.batch_size = args.batch_size
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key, None) is not None:
            cfg[key].num_workers = 0
            cfg[key].persistent_workers = False
    cfg.work_dir = args.work_dir
    cfg.log_level = 'WARNING'
    cfg.launcher = 'none'
    return cfg


class PeakMemory:
    """Peak memory of a code region, in bytes above its start."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == 'cuda'
        self.method = None
        self._libc = None
        if self.cuda:
            self.method = 'torch.cuda.max_memory_allocated - allocated at ' \
                'start'
            return
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            self.method = 'VmHWM - VmRSS at start (VmHWM reset, malloc_trim)'
        except OSError:
            return
        try:
            self._libc = ctypes.CDLL('libc.so.6')
        except OSError:
            self._libc = None

    @staticmethod
    def _status_kib(field: str) -> int:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
        raise KeyError(field)

    def start(self) -> None:
        """Forget freed memory and reset the high-water mark."""
        gc.collect()
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
            return
        if self.method is None:
            return
        if self._libc is not None:
            self._libc.malloc_trim(0)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        self._base = self._status_kib('VmRSS') * 1024

    def stop(self) -> Optional[int]:
        """Bytes of the peak above the start (None when unavailable)."""
        if self.cuda:
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() - self._base
        if self.method is None:
            return None
        return self._status_kib('VmHWM') * 1024 - self._base


def clear_records(distiller) -> None:
    """Drop the recorded tensors a step leaves behind."""
    for table in (distiller._student_recorders, distiller._teacher_recorders):
        for recorder in table.values():
            recorder.record = None


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = build_cfg(args)
    runner = RUNNERS.build(cfg)
    model = runner.model
    distiller = model.module if is_model_wrapper(model) else model
    if not distiller.distilling:
        raise ValueError('the distiller has no distill_losses to benchmark')
    device = next(distiller.student.parameters()).device
    optim_wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
    loader = iter(runner.build_dataloader(cfg.train_dataloader))
    batches = [next(loader) for _ in range(args.steps)]

    def student_train(batch):
        distiller.distill_enabled = False
        try:
            model.train_step(batch, optim_wrapper)
        finally:
            distiller.distill_enabled = True

    def teacher_infer(batch):
        data = distiller.data_preprocessor(batch, True)
        _, teacher_inputs = distiller._split_inputs(data['inputs'])
        distiller._run_teacher(teacher_inputs, data['data_samples'])

    def distill(batch):
        model.train_step(batch, optim_wrapper)

    funcs: Dict[str, Callable] = dict(
        student_train=student_train, teacher_infer=teacher_infer,
        distill=distill)
    memory = PeakMemory(device)
    times: Dict[str, List[float]] = {p: [] for p in PHASES}
    cpu_times: Dict[str, List[float]] = {p: [] for p in PHASES}
    peaks: Dict[str, List[int]] = {p: [] for p in PHASES}
    model.train()
    for i in range(args.warmup + args.steps):
        batch = batches[i % len(batches)]
        for phase in PHASES:
            clear_records(distiller)
            memory.start()
            cpu_start = time.process_time()
            start = time.perf_counter()
            funcs[phase](batch)
            if device.type == 'cuda':
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            peak = memory.stop()
            if i >= args.warmup:
                times[phase].append(elapsed)
                cpu_times[phase].append(cpu)
                if peak is not None:
                    peaks[phase].append(peak)
    clear_records(distiller)

    med = {p: statistics.median(times[p]) for p in PHASES}
    ratio = med['distill'] / (med['student_train'] + med['teacher_infer'])
    cpu_med = {p: statistics.median(cpu_times[p]) for p in PHASES}
    cpu_ratio = cpu_med['distill'] / (
        cpu_med['student_train'] + cpu_med['teacher_infer'])
    mib = {
        p: (max(peaks[p]) / 2**20 if peaks[p] else None)
        for p in PHASES
    }

    def count(module) -> int:
        return sum(p.numel() for p in module.parameters())

    summary = dict(
        config=args.config,
        device=str(device),
        threads=torch.get_num_threads(),
        batch_size=cfg.train_dataloader.batch_size,
        steps=args.steps,
        warmup=args.warmup,
        teacher_ckpt=cfg.model.get('teacher_ckpt', None),
        params=dict(
            student=count(distiller.student),
            teacher=count(distiller.teacher),
            adapters=count(distiller.adapters),
            # adversarial distillers (FAD): their discriminators
            discriminators=sum(
                count(m) for m in getattr(
                    distiller, 'discriminator_modules', dict)().values())),
        times_s={
            p: dict(median=med[p], min=min(times[p]), max=max(times[p]),
                    all=times[p])
            for p in PHASES
        },
        cpu_times_s={
            p: dict(median=cpu_med[p], min=min(cpu_times[p]),
                    max=max(cpu_times[p]), all=cpu_times[p])
            for p in PHASES
        },
        ratio=ratio,
        ratio_cpu_time=cpu_ratio,
        overhead_s=med['distill'] - med['student_train'] -
        med['teacher_infer'],
        peak_mem_mib=mib,
        memory_method=memory.method)

    print(f'config: {args.config}')
    print(f'device: {device}  threads: {torch.get_num_threads()}  batch: '
          f'{summary["batch_size"]}  steps: {args.steps} (+{args.warmup} '
          'warm-up, phases interleaved, same batches)')
    print('params: student {student:,}  teacher {teacher:,}  adapters '
          '{adapters:,}  discriminators {discriminators:,}'.format(
              **summary['params']))
    for p in PHASES:
        mem = 'n/a' if mib[p] is None else f'{mib[p]:.0f} MiB'
        print(f'{p:14s} median {med[p]:.3f} s  (min {min(times[p]):.3f}, '
              f'max {max(times[p]):.3f})  CPU time median {cpu_med[p]:.3f} '
              f's  peak memory +{mem}')
    print(f'ratio distill / (student_train + teacher_infer): {ratio:.3f}  '
          f'(overhead {summary["overhead_s"]:+.3f} s per step; CPU-time '
          f'ratio {cpu_ratio:.3f})')
    print(f'memory: {memory.method or "not available on this platform"}')
    line = json.dumps(summary)
    if args.json:
        with open(args.json, 'w') as f:
            f.write(line + '\n')
    print(line)


if __name__ == '__main__':
    main()
