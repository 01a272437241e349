"""Distiller3D: knowledge distillation around any mmdet3d 1.x model."""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader
from torch import Tensor, nn

from mmdet3d.registry import MODELS
from ...utils.safe_globals import load_weights_only
from .shared_supervision import ce_on_changed, mask_unchanged_voxels
from ...utils.state_dict import state_dict_mismatch
from ...utils.teacher_checkpoint import (check_mmdet3d_version,
                                         fetch_checkpoint, is_url)
from mmdet3d.structures import PointData
from ..recorders import (ModuleRecorder, Record, RecordSpec,
                         infer_out_channels, match_rows, model_bev_range,
                         resample_teacher, same_grid)

ModelCfg = Union[dict, ConfigDict]


class _TeacherDone(Exception):
    """Raised by the last teacher recorder to end the teacher forward."""


class _DistillTerm:
    """One ``loss_kd_*`` term: loss module, record specs and adapter name."""

    def __init__(self, name: str, loss: nn.Module, student: RecordSpec,
                 teacher: RecordSpec, adapter: Optional[str],
                 context: Optional[List[RecordSpec]] = None):
        self.name = name
        self.loss = loss
        self.student = student
        self.teacher = teacher
        self.adapter = adapter
        #: further teacher modules whose records the loss reads
        #: (``teacher_context``, e.g. heatmaps that mask a feature term)
        self.context = context or []


def load_model_cfg(cfg: Union[str, ModelCfg]) -> ConfigDict:
    """A model config from a dict or a config file.

    Args:
        cfg (str | dict): Model config, or a config file whose ``model`` is
            taken: a path, or a package config as in ``_base_``
            (``mmdet3d::pointpillars/...py``, resolved by
            ``mmengine.hub.get_config``).

    Returns:
        ConfigDict: The model config.
    """
    if isinstance(cfg, str):
        if '::' in cfg:
            from mmengine.hub import get_config
            model = ConfigDict(get_config(cfg).model)
            # built in that package's registry scope, as a _base_ entry
            model.setdefault('_scope_', cfg.partition('::')[0])
            return model
        if not osp.isfile(cfg):
            raise FileNotFoundError(
                f'teacher_cfg / model config {cfg!r} does not exist (give a '
                'path, or a package config such as '
                "'mmdet3d::pointpillars/<name>.py')")
        return ConfigDict(Config.fromfile(cfg).model)
    cfg = ConfigDict(cfg)
    if 'type' not in cfg and 'model' in cfg:
        cfg = ConfigDict(cfg.model)
    return cfg


def split_teacher_inputs(inputs: dict, teacher_inputs: Dict[str, str]
                         ) -> Tuple[dict, dict]:
    """Student and teacher inputs of a batch.

    Args:
        inputs (dict): Batch inputs.
        teacher_inputs (dict): ``{teacher_key: batch_key}``: the teacher
            reads ``inputs[batch_key]`` as its ``teacher_key``; those batch
            keys are removed from the student's inputs.

    Returns:
        tuple[dict, dict]: student inputs, teacher inputs.
    """
    batch_keys = set(teacher_inputs.values())
    missing = batch_keys - set(inputs)
    if missing:
        raise KeyError(
            f'teacher_inputs needs batch keys {sorted(missing)}; the '
            'dataset pipeline must produce and pack them')
    student = {k: v for k, v in inputs.items() if k not in batch_keys}
    teacher = dict(student)
    for t_key, b_key in teacher_inputs.items():
        teacher[t_key] = inputs[b_key]
    return student, teacher


def teacher_forward(teacher: nn.Module, inputs: dict,
                    data_samples: list) -> None:
    """A frozen teacher's forward as the distiller runs it: features and
    head outputs (what KD terms record), no loss, no post-processing.

    Args:
        teacher (nn.Module): An mmdet3d detector or segmentor.
        inputs (dict): Its data preprocessor's ``inputs``.
        data_samples (list): Its data preprocessor's ``data_samples``.
    """
    if hasattr(teacher, 'decode_head'):  # segmentors
        teacher.decode_head(teacher.extract_feat(inputs))
    elif hasattr(teacher, 'pts_bbox_head'):  # MVX detectors (CenterPoint)
        metas = [s.metainfo for s in data_samples]
        _, pts_feats = teacher.extract_feat(inputs, metas)
        if pts_feats is not None and teacher.pts_bbox_head is not None:
            teacher.pts_bbox_head(pts_feats)
    else:
        teacher._forward(inputs, data_samples)


@MODELS.register_module()
class Distiller3D(BaseModel):
    """Distils a frozen teacher into a student mmdet3d model.

    The teacher is built from its own config, loaded from ``teacher_ckpt``
    on CPU at build time (before any DDP wrap), frozen and kept in eval mode
    even when the distiller is in train mode (its data preprocessor follows
    the distiller's mode so that voxel limits match the student's). Student
    and teacher keep their own data preprocessors, so they may voxelize
    differently, and the teacher may read its own inputs from the batch
    (``teacher_inputs``). The teacher runs under ``no_grad``, computes no
    loss and no post-processing, and stops as soon as every recorded teacher
    module has produced its output. Predict / tensor modes run the student
    only.

    Each distillation term of ``distill_losses`` names the student and
    teacher modules to record (a module name, or a dict with ``module``,
    ``output``, ``xyz``, ``kind``; see :class:`RecordSpec`) and, optionally,
    an ``adapter`` (e.g. ``dict(type='ChannelAdapter')``; channels inferred
    from the modules when omitted) applied to the student tensor. Adapters
    and loss modules belong to the distiller, never to the student.

    Args:
        student (dict): Student model config.
        teacher (dict | str): Teacher model config, or a config file path
            (``mmdet3d::`` paths allowed) whose ``model`` is used.
        teacher_ckpt (str, optional): Teacher checkpoint. None keeps the
            teacher's own initialisation (for tests; a warning is logged).
        distill_losses (dict): ``{'loss_kd_<name>': dict(type=..., student=
            ..., teacher=..., adapter=..., **loss_kwargs)}``; a loss with
            ``takes_context`` also gets ``teacher_context`` (teacher module
            names whose records it reads, e.g. heatmaps that mask a feature
            term) as ``context=[tensors]``.
        teacher_inputs (dict, optional): ``{teacher_key: batch_key}``: the
            teacher reads ``inputs[batch_key]`` as its ``teacher_key`` (e.g.
            ``dict(points='teacher_points')``); those batch keys are removed
            from the student's inputs.
        teacher_ckpt_strict (bool): Fail when the checkpoint's keys do not
            fit the teacher. Defaults to True.
        teacher_ckpt_allow_legacy (bool): Load a checkpoint whose meta says
            it predates mmdet3d 1.0's coordinate refactor (refused by
            default, see :mod:`distill3d.utils.teacher_checkpoint`).
            ``teacher_ckpt`` may be an ``http(s)://`` URL (model zoo): it is
            downloaded into torch hub's cache and loaded weights-only.
        teacher_mode (str): 'frozen' (default): a separate teacher network,
            loaded and frozen as above. 'shared' (M2SKD's released code):
            no separate teacher; the student itself runs a second forward
            on the teacher's inputs, with gradient, supervised by the
            teacher-side labels (``data_sample.teacher_gt_pts_seg``, see
            ``PackDistillInputs``) and weighted by ``teacher_loss_weight``;
            the KD terms treat that forward's outputs as the (detached)
            teacher. ``teacher`` and ``teacher_ckpt`` must then be None.
        teacher_loss_weight (float): Weight of the shared-mode teacher
            forward's supervision (its losses are logged as
            ``teacher_loss_*``). Defaults to 0.2 (released code).
        teacher_supervision (str): What supervises the shared-mode teacher
            forward: 'all' (the student's own losses on every fused voxel;
            default) or 'changed' (M2SKD's released code: the decode
            head's cross-entropy only, on the voxels whose fused-input
            label differs from the single-scan label of the same voxel,
            averaged over those; see :mod:`.shared_supervision`).
        data_preprocessor (dict, optional): The distiller's own
            preprocessor: casts and moves data only. Defaults to
            ``BaseDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 student: ModelCfg,
                 teacher: Union[ModelCfg, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 distill_losses: Optional[Dict[str, dict]] = None,
                 teacher_inputs: Optional[Dict[str, str]] = None,
                 teacher_ckpt_strict: bool = True,
                 teacher_ckpt_allow_legacy: bool = False,
                 teacher_mode: str = 'frozen',
                 teacher_loss_weight: float = 0.2,
                 teacher_supervision: str = 'all',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            data_preprocessor=data_preprocessor
            or dict(type='BaseDataPreprocessor'),
            init_cfg=init_cfg)
        if teacher_mode not in ('frozen', 'shared'):
            raise ValueError(f"teacher_mode must be 'frozen' or 'shared', "
                             f'got {teacher_mode!r}')
        if teacher_supervision not in ('all', 'changed'):
            raise ValueError("teacher_supervision must be 'all' or "
                             f"'changed', got {teacher_supervision!r}")
        self.teacher_mode = teacher_mode
        self.teacher_loss_weight = teacher_loss_weight
        self.teacher_supervision = teacher_supervision
        self.teacher_ckpt_allow_legacy = teacher_ckpt_allow_legacy
        self.student = MODELS.build(load_model_cfg(student))
        # Everything built after the student (teacher, adapters, loss
        # modules) draws from a forked torch RNG, so that the student is
        # initialised (``init_weights``) from the same RNG state as the
        # plain student of the same seed: a study's paired comparison then
        # differs by the distillation only, not by the student's init.
        with torch.random.fork_rng(devices=[]):
            self._build_rest(teacher, teacher_ckpt, teacher_ckpt_strict,
                             teacher_inputs, distill_losses)

    def _build_rest(self, teacher: Union[ModelCfg, str, None],
                    teacher_ckpt: Optional[str], teacher_ckpt_strict: bool,
                    teacher_inputs: Optional[Dict[str, str]],
                    distill_losses: Optional[Dict[str, dict]]) -> None:
        """Teacher, KD terms and their adapters (see ``__init__``)."""
        if self.teacher_mode == 'shared':
            self._init_shared_teacher(teacher, teacher_ckpt)
        else:
            self._init_frozen_teacher(teacher, teacher_ckpt,
                                      teacher_ckpt_strict)
        self.teacher_inputs = dict(teacher_inputs or {})

        #: multiplies every loss_kd_* term (DistillLossWeightHook sets it)
        self.kd_weight_scale = 1.0
        #: multiplies one term, by name, on top of ``kd_weight_scale``
        #: (DistillLossWeightHook with ``terms`` sets it)
        self.kd_term_scale: Dict[str, float] = {}
        #: False after StopDistillHook: no teacher forward, no KD terms
        self.distill_enabled = True

        self.adapters = nn.ModuleDict()
        self.distill_losses = nn.ModuleDict()
        self._terms: List[_DistillTerm] = []
        self._student_recorders: Dict[str, ModuleRecorder] = OrderedDict()
        self._teacher_recorders: Dict[str, ModuleRecorder] = OrderedDict()
        for name, cfg in (distill_losses or {}).items():
            self._add_term(name, dict(cfg))

    # ------------------------------------------------------------------
    # build
    # ------------------------------------------------------------------
    @property
    def shared_teacher(self) -> bool:
        """Whether the student also plays the teacher (shared weights)."""
        return self.teacher_mode == 'shared'

    def _init_shared_teacher(self, teacher: Optional[ModelCfg],
                             teacher_ckpt: Optional[str]) -> None:
        if teacher is not None or teacher_ckpt is not None:
            raise ValueError(
                "teacher_mode='shared' uses the student as its own teacher; "
                'leave teacher and teacher_ckpt (teacher_cfg / teacher_ckpt '
                'in a config) unset')
        # the same module object, kept out of _modules: no second copy in
        # the state dict, and train()/eval() do not freeze the student
        object.__setattr__(self, 'teacher', self.student)
        self.teacher_ckpt = None

    def _init_frozen_teacher(self, teacher: Union[ModelCfg, str, None],
                             teacher_ckpt: Optional[str],
                             teacher_ckpt_strict: bool) -> None:
        if teacher is None:
            raise ValueError("teacher_mode='frozen' needs a teacher config")
        self.teacher = MODELS.build(load_model_cfg(teacher))
        if teacher_ckpt is not None:
            self._load_teacher(teacher_ckpt, teacher_ckpt_strict)
            # keep mmengine's Runner from re-initialising loaded weights
            self.teacher.is_init = True
        else:
            print_log(
                'Distiller3D: no teacher_ckpt given, the teacher keeps its '
                'initial (untrained) weights', logger='current',
                level=30)
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        # the teacher's preprocessor follows the distiller's mode from the
        # start, not only after the first train() / eval()
        self.teacher.data_preprocessor.train(self.training)
        self.teacher_ckpt = teacher_ckpt

    def _load_teacher(self, path: str, strict: bool) -> None:
        if not path.startswith(('http://', 'https://', 's3://')) and \
                not osp.isfile(path):
            raise FileNotFoundError(
                f'teacher_ckpt {path!r} does not exist (train the teacher '
                'first, or fix the path)')
        try:
            # a URL is downloaded first, so that it is read weights-only
            # like a local file (mmengine's URL loader is not); a local
            # file is read weights-only on every torch (load_weights_only)
            local = fetch_checkpoint(path) if is_url(path) else path
            ckpt = load_weights_only(local) if osp.isfile(local) else \
                CheckpointLoader.load_checkpoint(local, map_location='cpu')
        except Exception as exc:
            raise RuntimeError(
                f'teacher_ckpt {path!r} could not be read: {exc}') from exc
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) \
            else None
        if not isinstance(state, dict):
            raise RuntimeError(f'teacher_ckpt {path!r} holds no state_dict')
        if not self.teacher_ckpt_allow_legacy:
            check_mmdet3d_version(ckpt.get('meta'), path)
        state = OrderedDict(
            (k[len('module.'):] if k.startswith('module.') else k, v)
            for k, v in state.items())
        mismatch = state_dict_mismatch(self.teacher.state_dict(), state)
        if mismatch:
            msg = (f'teacher_ckpt {path!r} does not fit the teacher config: '
                   + mismatch.describe())
            if strict:
                raise ValueError(
                    msg + ' (set teacher_ckpt_strict=False to load the '
                    'matching keys anyway)')
            print_log(msg + '; only the matching keys are loaded',
                      logger='current', level=30)
            for k in mismatch.shape:  # load_state_dict raises on sizes
                state.pop(k)
        self.teacher.load_state_dict(state, strict=False)
        print_log(f'Distiller3D: teacher loaded from {path}',
                  logger='current')

    def _recorder(self, side: str, spec: RecordSpec) -> ModuleRecorder:
        table = self._student_recorders if side == 'student' \
            else self._teacher_recorders
        if spec.key not in table:
            model = self.student if side == 'student' else self.teacher
            # a shared teacher runs its whole forward (it has a loss)
            hook = self._teacher_recorded \
                if side == 'teacher' and not self.shared_teacher else None
            table[spec.key] = ModuleRecorder(model, spec, side, hook,
                                             model_bev_range(model))
        return table[spec.key]

    def _add_term(self, name: str, cfg: dict) -> None:
        if not name.startswith('loss_kd_'):
            raise ValueError(f'distill_losses key {name!r} must start with '
                             "'loss_kd_' (mmengine sums keys with 'loss')")
        for key in ('type', 'student', 'teacher'):
            if key not in cfg:
                raise KeyError(f'distill_losses.{name} needs {key!r}')
        s_spec = RecordSpec(cfg.pop('student'))
        t_spec = RecordSpec(cfg.pop('teacher'))
        adapter = cfg.pop('adapter', None)
        context = cfg.pop('teacher_context', None)
        if isinstance(context, (str, dict)):
            context = [context]
        context = [RecordSpec(c) for c in context or []]
        s_rec = self._recorder('student', s_spec)
        t_rec = self._recorder('teacher', t_spec)
        for spec in context:
            self._recorder('teacher', spec)
        s_ch = infer_out_channels(s_rec.module, s_spec.output)
        t_ch = infer_out_channels(t_rec.module, t_spec.output)
        loss_cls = MODELS.get(cfg['type']) if isinstance(cfg['type'], str) \
            else cfg['type']
        takes_records = getattr(loss_cls, 'takes_records', False)
        if takes_records:
            # record-level losses own their adapters: give them the widths
            cfg.setdefault('student_channels', s_ch)
            cfg.setdefault('teacher_channels', t_ch)
            if None in (cfg['student_channels'], cfg['teacher_channels']):
                raise ValueError(
                    f'distill_losses.{name}: cannot infer the channels of '
                    f'student {s_spec.module!r} / teacher {t_spec.module!r}; '
                    'set student_channels and teacher_channels')
        loss = MODELS.build(cfg)
        if context and not getattr(loss, 'takes_context', False):
            raise ValueError(
                f'distill_losses.{name}: teacher_context given, but '
                f'{type(loss).__name__} does not read it (takes_context)')
        if getattr(loss, 'takes_context', False) and not context:
            raise ValueError(f'distill_losses.{name}: {type(loss).__name__} '
                             'needs teacher_context (teacher module names)')
        if getattr(loss, 'is_logit_loss', False):
            self._check_classes(name, s_ch, t_ch)
        if adapter is not None:
            adapter = dict(adapter)
            adapter.setdefault('in_channels', s_ch)
            adapter.setdefault('out_channels', t_ch)
            if None in (adapter['in_channels'], adapter['out_channels']):
                raise ValueError(
                    f'distill_losses.{name}.adapter: cannot infer the '
                    f'channels of student {s_spec.module!r} / teacher '
                    f'{t_spec.module!r}; set in_channels and out_channels')
            self.adapters[name] = MODELS.build(adapter)
        elif not takes_records and None not in (s_ch, t_ch) and s_ch != t_ch:
            raise ValueError(
                f'distill_losses.{name}: student {s_spec.module!r} has '
                f'{s_ch} channels, teacher {t_spec.module!r} has {t_ch}; '
                "add adapter=dict(type='ChannelAdapter')")
        self.distill_losses[name] = loss
        self._terms.append(
            _DistillTerm(name, loss, s_spec, t_spec,
                         name if adapter is not None else None, context))

    def _check_classes(self, name: str, s_ch: Optional[int],
                       t_ch: Optional[int]) -> None:
        s_cls = _num_classes(self.student)
        t_cls = _num_classes(self.teacher)
        if s_cls is not None and t_cls is not None and s_cls != t_cls:
            raise ValueError(
                f'distill_losses.{name}: logit KD needs the same classes, '
                f'but the student predicts {s_cls} and the teacher {t_cls}')
        if s_ch is not None and t_ch is not None and s_ch != t_ch:
            raise ValueError(
                f'distill_losses.{name}: logit KD needs the same class '
                f'axis, but the student logits have {s_ch} channels and the '
                f'teacher logits {t_ch}')

    # ------------------------------------------------------------------
    # modes
    # ------------------------------------------------------------------
    def train(self, mode: bool = True) -> 'Distiller3D':
        """Set train/eval mode; a frozen teacher always stays in eval."""
        super().train(mode)
        if self.shared_teacher:
            return self
        self.teacher.eval()
        preprocessor = getattr(self.teacher, 'data_preprocessor', None)
        if preprocessor is not None:
            preprocessor.train(mode)
        return self

    def forward(self,
                inputs: dict,
                data_samples: Optional[list] = None,
                mode: str = 'tensor'):
        """mmdet3d's forward contract.

        Args:
            inputs (dict): Batch inputs (``points`` etc., plus any teacher
                keys named in ``teacher_inputs``).
            data_samples (list, optional): Det3DDataSample list.
            mode (str): 'loss', 'predict' or 'tensor'.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode not in ('predict', 'tensor'):
            raise RuntimeError(f'Invalid mode "{mode}"')
        # the student only: the teacher's batch keys need not be there
        batch_keys = set(self.teacher_inputs.values())
        student_inputs = {k: v for k, v in inputs.items()
                          if k not in batch_keys}
        data = self.student.data_preprocessor(
            dict(inputs=student_inputs, data_samples=data_samples), False)
        return self.student(**data, mode=mode)

    def _split_inputs(self, inputs: dict) -> Tuple[dict, dict]:
        return split_teacher_inputs(inputs, self.teacher_inputs)

    @property
    def distilling(self) -> bool:
        """Whether this step runs the teacher and the KD terms."""
        return self.distill_enabled and len(self._terms) > 0

    def loss(self, inputs: dict,
             data_samples: Optional[list]) -> Dict[str, Tensor]:
        """Student losses plus the weighted ``loss_kd_*`` terms.

        Args:
            inputs (dict): Batch inputs.
            data_samples (list): Det3DDataSample list.

        Returns:
            dict[str, Tensor]: Losses.
        """
        student_inputs, teacher_inputs = self._split_inputs(inputs)
        teacher_losses = {}
        if self.distilling:
            teacher_losses = self._run_teacher(teacher_inputs, data_samples,
                                               student_inputs)
        s_data = self.student.data_preprocessor(
            dict(inputs=student_inputs, data_samples=data_samples), True)
        if not self.distilling:
            return self.student(**s_data, mode='loss')
        for recorder in self._student_recorders.values():
            recorder.start()
        try:
            losses = self.student(**s_data, mode='loss')
        finally:
            for recorder in self._student_recorders.values():
                recorder.stop()
        losses.update(teacher_losses)
        losses.update(self.compute_distill_losses(s_data['data_samples']))
        return losses

    def teacher_records(self, data: dict) -> Dict[str, Record]:
        """Run the teacher on a batch and return its record per KD term.

        Used to inspect what the distillation sees (e.g. the nodes
        PointDistiller weights most) outside a train step.

        Args:
            data (dict): A collated batch (``inputs`` and
                ``data_samples``), as the dataloader yields it.

        Returns:
            dict[str, Record]: The teacher record of each ``loss_kd_*``
            term, keyed by the term's name.
        """
        data = self.data_preprocessor(data, False)
        _, teacher_inputs = self._split_inputs(data['inputs'])
        self._run_teacher(teacher_inputs, data.get('data_samples'))
        return {
            term.name: self._teacher_recorders[term.teacher.key].record
            for term in self._terms
        }

    def distill_loss(self, name: str) -> nn.Module:
        """The loss module of the ``loss_kd_*`` term ``name``."""
        for term in self._terms:
            if term.name == name:
                return term.loss
        raise KeyError(f'no distillation term {name!r}; terms: '
                       f'{[t.name for t in self._terms]}')

    def _teacher_recorded(self) -> None:
        if all(r.record is not None
               for r in self._teacher_recorders.values()):
            raise _TeacherDone

    def _run_teacher(self, inputs: dict, data_samples: Optional[list],
                     student_inputs: Optional[dict] = None
                     ) -> Dict[str, Tensor]:
        """Teacher forward filling the teacher records.

        ``student_inputs`` (the single-scan batch) are needed by the
        shared mode's ``teacher_supervision='changed'`` only.

        Returns:
            dict[str, Tensor]: The shared-mode teacher forward's weighted
            losses (``teacher_loss_*``); empty for a frozen teacher.
        """
        samples = [s.clone() for s in data_samples] \
            if data_samples is not None else None
        if samples is not None and 'points' in self.teacher_inputs:
            _fit_point_labels(samples, inputs['points'],
                              require=self.shared_teacher)
        for recorder in self._teacher_recorders.values():
            recorder.start()
        try:
            if self.shared_teacher:
                t_data = self.student.data_preprocessor(
                    dict(inputs=inputs, data_samples=samples), True)
                if self.teacher_supervision == 'changed':
                    changed, num_voxels = mask_unchanged_voxels(
                        self.student, student_inputs, data_samples, t_data)
                losses = self.student(**t_data, mode='loss')
                if self.teacher_supervision == 'changed':
                    losses = ce_on_changed(losses, self.student, changed,
                                           num_voxels)
                return _prefixed_losses(losses, 'teacher_',
                                        self.teacher_loss_weight)
            with torch.no_grad():
                t_data = self.teacher.data_preprocessor(
                    dict(inputs=inputs, data_samples=samples), True)
                self._teacher_forward(t_data['inputs'],
                                      t_data['data_samples'])
        except _TeacherDone:
            pass
        finally:
            for recorder in self._teacher_recorders.values():
                recorder.stop()
        return {}

    def _teacher_forward(self, inputs: dict, data_samples: list) -> None:
        """Features and head outputs, no loss, no post-processing."""
        teacher_forward(self.teacher, inputs, data_samples)

    def compute_distill_losses(
            self,
            data_samples: Optional[list] = None) -> Dict[str, Tensor]:
        """The ``loss_kd_*`` terms from the records of this step.

        Args:
            data_samples (list, optional): The student's samples after its
                preprocessor, for losses that read labels
                (``takes_data_samples``, e.g. voxel instance ids).
        """
        losses = {}
        for term in self._terms:
            s_rec = self._student_recorders[term.student.key].record
            t_rec = self._teacher_recorders[term.teacher.key].record
            for side, rec, spec in (('student', s_rec, term.student),
                                    ('teacher', t_rec, term.teacher)):
                if rec is None:
                    raise RuntimeError(
                        f'{term.name}: the {side} module {spec.module!r} did '
                        'not run in this step')
            extra = dict(context=self._context(term)) if term.context \
                else {}
            if getattr(term.loss, 'takes_data_samples', False):
                value = term.loss(s_rec, t_rec, data_samples=data_samples)
            elif getattr(term.loss, 'takes_records', False):
                value = term.loss(s_rec, t_rec, **extra)
            else:
                student, teacher = self._pair(s_rec, t_rec)
                if term.adapter is not None:
                    student = self.adapters[term.adapter](student)
                if student.shape != teacher.shape:
                    raise ValueError(
                        f'{term.name}: student {term.student.module!r} gives '
                        f'{tuple(student.shape)} (after the adapter), teacher '
                        f'{term.teacher.module!r} gives '
                        f'{tuple(teacher.shape)}')
                value = term.loss(student, teacher, **extra)
            losses[term.name] = value * self.term_scale(term.name)
            # statistics a term exposes (e.g. PointDistiller's weight
            # spread) are logged, not summed: their keys hold no 'loss'
            short = term.name[len('loss_'):]
            for key, stat in getattr(term.loss, 'log_vars', {}).items():
                losses[f'{short}.{key}'] = torch.as_tensor(stat).detach()
        return losses

    def term_scale(self, name: str) -> float:
        """The scale of one KD term this step: ``kd_weight_scale`` times
        its ``kd_term_scale`` (DistillLossWeightHook sets both)."""
        return self.kd_weight_scale * self.kd_term_scale.get(name, 1.0)

    def _context(self, term) -> List[Tensor]:
        """Detached tensors of a term's ``teacher_context`` records."""
        context = []
        for spec in term.context:
            rec = self._teacher_recorders[spec.key].record
            if rec is None:
                raise RuntimeError(
                    f'{term.name}: the teacher context module '
                    f'{spec.module!r} did not run in this step')
            context.append(rec.tensor.detach())
        return context

    @staticmethod
    def _pair(s_rec: Record, t_rec: Record) -> Tuple[Tensor, Tensor]:
        """Student and teacher tensors over the same nodes.

        Voxel / sparse records are matched by coordinate (voxels both sides
        share); dense BEV maps of different grids (another range, voxel
        size or stride) by metric position: the teacher's map is sampled
        at the student's pixel centres, the student's cropped to the
        teacher's range (:func:`.bev_grid.resample_teacher`); other records
        must already correspond one to one.
        """
        if s_rec.kind == t_rec.kind == 'dense' and \
                s_rec.bev_range is not None and \
                t_rec.bev_range is not None and \
                not same_grid(s_rec.tensor.shape, s_rec.bev_range,
                              t_rec.tensor.shape, t_rec.bev_range):
            return resample_teacher(s_rec.tensor, s_rec.bev_range,
                                    t_rec.tensor, t_rec.bev_range)
        if s_rec.coors is not None and t_rec.coors is not None and \
                s_rec.kind in ('voxel', 'sparse') and s_rec.kind == t_rec.kind:
            idx_s, idx_t = match_rows(s_rec.coors, t_rec.coors)
            return s_rec.tensor[idx_s], t_rec.tensor[idx_t]
        return s_rec.tensor, t_rec.tensor


def _fit_point_labels(samples: list, points: List[Tensor],
                      require: bool = False) -> None:
    """Give the teacher's samples labels that fit the teacher's points.

    mmdet3d's preprocessor voxelizes ``pts_semantic_mask`` in train mode.
    When the teacher reads other points than the student
    (``teacher_inputs``), the teacher-side labels packed as
    ``teacher_gt_pts_seg`` (``PackDistillInputs``) replace the student's;
    without them a frozen teacher (no loss) gets placeholder labels, while
    a shared teacher (``require``, it is supervised) raises.
    """
    for sample, pts in zip(samples, points):
        teacher_seg = sample.get('teacher_gt_pts_seg', None)
        if teacher_seg is not None and \
                len(teacher_seg.pts_semantic_mask) == len(pts):
            sample.gt_pts_seg = teacher_seg.clone()
            continue
        mask = sample.gt_pts_seg.get('pts_semantic_mask', None) \
            if 'gt_pts_seg' in sample else None
        if mask is not None and len(mask) != len(pts):
            if require:
                raise KeyError(
                    "teacher_mode='shared' supervises the teacher forward, "
                    f'but its {len(pts)} points have no labels of their own:'
                    " pack 'teacher_pts_semantic_mask' with "
                    'PackDistillInputs')
            sample.gt_pts_seg = PointData(
                pts_semantic_mask=mask.new_zeros(len(pts)))


def _prefixed_losses(losses: dict, prefix: str,
                     weight: float) -> Dict[str, Tensor]:
    """``losses`` renamed ``prefix + key`` and scaled by ``weight``."""
    out = {}
    for key, value in losses.items():
        if 'loss' in key:
            value = [v * weight for v in value] \
                if isinstance(value, (list, tuple)) else value * weight
        out[prefix + key] = value
    return out


def _num_classes(model: nn.Module) -> Optional[int]:
    for head in ('bbox_head', 'decode_head', 'rpn_head', 'head'):
        value = getattr(getattr(model, head, None), 'num_classes', None)
        if isinstance(value, int):
            return value
    return None
