# Copyright (c) distill3d contributors. All rights reserved.
"""What can be distilled between a student and a teacher.

:func:`inspect_distill` builds the student and the teacher of a
distillation config, runs one real batch of the config's training data
through both (the student in training mode as in a distillation step, the
teacher as :class:`~distill3d.models.Distiller3D` runs it) and records the
output of every module up to a depth: its record kind (see
:data:`distill3d.models.recorders.record.KINDS`), shape, channels and
nodes. Student and teacher records *pair* when they have the same kind and
the same nodes (the same BEV grid, the same voxels, the same number of
points), or, for models with different voxelization ranges (another
architecture), when both are dense BEV maps: the distiller resamples the
teacher's map onto the student's pixels. A pair whose channels differ needs
an adapter.

:func:`check_distill` builds the config's distiller and runs one training
step on the same batch: every ``loss_kd_*`` term is reported with the
records it compares and its value, or the error that stops it.
"""
import copy
import math
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch import nn

from mmdet3d.registry import DATASETS, MODELS
from ..engine.runner import build_distill_cfg
from ..models.distillers import (load_model_cfg, split_teacher_inputs,
                                 teacher_forward)
from ..models.recorders.bev_grid import model_bev_range
from ..models.recorders.record import Record, make_record


@dataclass
class RecordInfo:
    """One module's recorded output.

    Args:
        side (str): 'student' or 'teacher'.
        module (str): Dotted module name (what a ``distill_losses`` term's
            ``student`` / ``teacher`` key takes).
        kind (str): Record kind.
        shape (tuple): Shape of the recorded tensor.
        channels (int): Its channel count.
        nodes (tuple, optional): What pairing compares: ('dense', H, W),
            ('voxel', M), ('sparse', *spatial shape) (sparse records are
            matched by voxel coordinate, so the same grid pairs whatever
            the occupied voxels), ('points', N); None for 'tensor' records
            (they pair with nothing).
    """
    side: str
    module: str
    kind: str
    shape: Tuple[int, ...]
    channels: int
    nodes: Optional[tuple]


@dataclass
class Pair:
    """A student record and the teacher records with the same nodes (or,
    for dense BEV maps of models with known ranges, another grid that the
    distiller resamples)."""
    student: RecordInfo
    teachers: List[RecordInfo] = field(default_factory=list)

    def adapter(self, teacher: RecordInfo) -> str:
        """What the pair needs before a feature loss compares them."""
        steps = []
        if teacher.nodes != self.student.nodes:
            steps.append('resampled by metric position')
        if teacher.channels != self.student.channels:
            steps.append(f'ChannelAdapter {self.student.channels}->'
                         f'{teacher.channels}')
        return ' + '.join(steps) or 'none'


def record_nodes_key(rec: Record) -> Optional[tuple]:
    """The nodes a record lives on (see :class:`RecordInfo`)."""
    shape = tuple(rec.tensor.shape)
    if rec.kind == 'dense':
        return ('dense', ) + shape[2:]
    if rec.kind == 'voxel':
        return ('voxel', shape[0])
    if rec.kind == 'sparse':
        # sparse records pair by voxel coordinate: the same grid suffices
        return ('sparse', ) + tuple(int(x) for x in rec.spatial_shape or ())
    if rec.kind == 'points':
        return ('points', shape[-1])
    return None


def _record_all(model: nn.Module, side: str, depth: int,
                run) -> List[RecordInfo]:
    """Record the first output of every module up to ``depth``."""
    found: Dict[str, RecordInfo] = {}
    handles = []

    def hook(name):

        def _hook(module, args, output):
            if name in found:
                return
            try:
                rec = make_record(args, output)
            except (TypeError, IndexError, KeyError, AttributeError):
                return  # not a tensor output: nothing to record
            if rec.tensor.dim() < 2:
                return  # scalars (losses) and vectors: nothing to distil
            found[name] = RecordInfo(side, name, rec.kind,
                                     tuple(rec.tensor.shape), rec.channels,
                                     record_nodes_key(rec))

        return _hook

    order = []
    for name, module in model.named_modules():
        if name and name.count('.') < depth and \
                not name.startswith('data_preprocessor'):
            order.append(name)
            handles.append(module.register_forward_hook(hook(name)))
    try:
        run()
    finally:
        for h in handles:
            h.remove()
    return [found[n] for n in order if n in found]


def _batch(cfg: Config, num_samples: int) -> dict:
    """The first ``num_samples`` samples of the training set, collated."""
    dataset = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
    if len(dataset) == 0:
        raise ValueError('the training set of the config is empty')
    return pseudo_collate(
        [dataset[i % len(dataset)] for i in range(num_samples)])


def inspect_distill(cfg: Config,
                    depth: int = 3,
                    num_samples: int = 2) -> Dict[str, Any]:
    """Recordable modules of a config's student and teacher, and pairs.

    Args:
        cfg (Config): A distillation config (``distiller``, ``teacher_cfg``
            and the student as ``model``). ``teacher_ckpt`` is not loaded:
            shapes do not depend on weights.
        depth (int): Deepest module level recorded (1: ``backbone``,
            2: ``backbone.blocks``...). Defaults to 3.
        num_samples (int): Samples of the training set in the batch.

    Returns:
        dict: ``student`` and ``teacher`` (lists of :class:`RecordInfo`),
        ``pairs`` (list of :class:`Pair`, student records with at least
        one teacher record on the same nodes).
    """
    cfg = build_distill_cfg(cfg)
    init_default_scope(cfg.get('default_scope', 'mmdet3d'))
    batch = _batch(cfg, num_samples)
    student = MODELS.build(copy.deepcopy(cfg.model.student))
    shared = cfg.model.get('teacher_mode', 'frozen') == 'shared'
    teacher = student if shared else MODELS.build(
        load_model_cfg(cfg.model.teacher))
    s_inputs, t_inputs = split_teacher_inputs(
        batch['inputs'], cfg.model.get('teacher_inputs') or {})
    samples = batch.get('data_samples')
    s_batch = dict(inputs=s_inputs, data_samples=samples)
    t_batch = dict(inputs=t_inputs, data_samples=samples)

    def run_student():
        student.train()
        student(**student.data_preprocessor(copy.copy(s_batch), True),
                mode='loss')

    def run_teacher():
        teacher.eval()
        with torch.no_grad():
            data = teacher.data_preprocessor(copy.copy(t_batch), True)
            teacher_forward(teacher, data['inputs'], data['data_samples'])

    s_recs = _record_all(student, 'student', depth, run_student)
    t_recs = _record_all(teacher, 'teacher', depth, run_teacher)
    # models with different BEV ranges (another architecture): dense maps
    # of other grids pair (Distiller3D resamples the teacher's onto the
    # student's by metric position)
    ranges = model_bev_range(student), model_bev_range(teacher)
    cross_grid = None not in ranges and ranges[0] != ranges[1]
    pairs = []
    for s in s_recs:
        if s.nodes is None:
            continue
        matches = [
            t for t in t_recs if t.nodes == s.nodes or
            (cross_grid and s.kind == t.kind == 'dense')
        ]
        if matches:
            pairs.append(Pair(s, matches))
    return dict(student=s_recs, teacher=t_recs, pairs=pairs)


@dataclass
class TermCheck:
    """One ``loss_kd_*`` term after a training step (or its error)."""
    name: str
    ok: bool
    message: str


def check_distill(cfg: Config, num_samples: int = 2,
                  load_teacher: bool = False) -> List[TermCheck]:
    """Build the config's distiller and run one training step.

    Args:
        cfg (Config): A distillation config.
        num_samples (int): Samples in the batch.
        load_teacher (bool): Load ``teacher_ckpt`` (default: not; a
            missing checkpoint is reported as a warning term
            ``teacher_ckpt``, weights do not change what is checked).

    Returns:
        list[TermCheck]: One per ``loss_kd_*`` term (records compared and
        value), or a single ``distiller`` entry with the error that
        stopped the build or the step.
    """
    cfg = build_distill_cfg(cfg)
    init_default_scope(cfg.get('default_scope', 'mmdet3d'))
    checks = []
    model_cfg = copy.deepcopy(cfg.model)
    ckpt = model_cfg.get('teacher_ckpt')
    if not load_teacher and ckpt:
        if not ckpt.startswith(('http://', 'https://', 's3://')) and \
                not osp.isfile(ckpt):
            checks.append(TermCheck(
                'teacher_ckpt', True, f'warning: {ckpt!r} does not exist '
                '(training would stop; not needed for this check)'))
        model_cfg.teacher_ckpt = None
    try:
        distiller = MODELS.build(model_cfg)
        batch = _batch(cfg, num_samples)
        distiller.train()
        data = distiller.data_preprocessor(batch, True)
        losses = distiller(**data, mode='loss')
    except Exception as exc:  # the reason is the finding
        return checks + [
            TermCheck('distiller', False, f'{type(exc).__name__}: {exc}')
        ]
    terms = getattr(distiller, '_terms', [])
    if not terms:
        return checks + [TermCheck('distiller', False,
                                   'no loss_kd_* term in distill_losses')]
    for term in terms:
        s_rec = distiller._student_recorders[term.student.key].record
        t_rec = distiller._teacher_recorders[term.teacher.key].record
        value = float(losses[term.name].detach())
        desc = (f'student {term.student.module} {s_rec.kind} '
                f'{tuple(s_rec.tensor.shape)} vs teacher '
                f'{term.teacher.module} {t_rec.kind} '
                f'{tuple(t_rec.tensor.shape)}: value {value:.4g}')
        ok = math.isfinite(value)
        checks.append(TermCheck(term.name, ok,
                                desc + ('' if ok else ' (not finite)')))
    return checks


def format_inspection(result: Dict[str, Any]) -> str:
    """The tables :func:`inspect_distill`'s result prints as."""

    def table(recs: List[RecordInfo]) -> List[str]:
        lines = [f'  {"module":<34} {"kind":<7} {"C":>5}  shape']
        for r in recs:
            lines.append(f'  {r.module:<34} {r.kind:<7} {r.channels:>5}  '
                         f'{r.shape}')
        return lines

    out = ['student modules (recorded in a training step):']
    out += table(result['student'])
    out += ['teacher modules (recorded as the distiller runs it):']
    out += table(result['teacher'])
    out += ['pairs (same kind and nodes; dense maps of another grid when '
            'the models\' BEV ranges differ): student -> same-named teacher '
            'module [adapter]; other teacher modules it pairs with']
    if not result['pairs']:
        out.append('  none: no student output lives on the nodes of a '
                   'teacher output (use logit KD, or resampling)')
    for pair in result['pairs']:
        same = [t for t in pair.teachers if t.module == pair.student.module]
        others = [t.module for t in pair.teachers if t not in same]
        text = f'  {pair.student.module} ({pair.student.kind} ' \
            f'{pair.student.nodes[1:]}) -> '
        text += ', '.join(f'{t.module} [{pair.adapter(t)}]' for t in same) \
            if same else '(no teacher module of that name)'
        if others:
            text += f'; also {", ".join(others[:6])}'
            text += f' and {len(others) - 6} more' if len(others) > 6 else ''
        out.append(text)
    return '\n'.join(out)
