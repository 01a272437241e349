# Copyright (c) distill3d contributors. All rights reserved.
"""The student of a distillation checkpoint as a plain mmdet3d model."""
import copy
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader

from mmdet3d.registry import MODELS
from ..utils import state_dict_mismatch

DISTILL_KEYS = ('runner_type', 'distiller', 'teacher_cfg', 'teacher_ckpt')
DISTILL_HOOKS = ('DistillLossWeightHook', 'StopDistillHook')
DISTILLERS = ('Distiller3D', 'AdversarialDistiller3D')
PREFIX = 'student.'
#: pipeline steps that only build the teacher's input (M2SKD)
TEACHER_INPUT_TRANSFORMS = ('MultiScanHardInstanceFusion', 'SplitFusedPoints')


def student_pipeline(pipeline: List[dict]) -> List[dict]:
    """A data pipeline without the steps that build the teacher's input.

    Drops :data:`TEACHER_INPUT_TRANSFORMS` and turns ``PackDistillInputs``
    back into mmdet3d's ``Pack3DDetInputs`` with the student's keys.
    """
    out = []
    for step in pipeline:
        kind = step.get('type') if isinstance(step, dict) else None
        if kind in TEACHER_INPUT_TRANSFORMS:
            continue
        if kind == 'PackDistillInputs':
            step = ConfigDict(copy.deepcopy(step), type='Pack3DDetInputs')
            step['keys'] = [k for k in step['keys']
                            if not k.startswith('teacher_')]
        out.append(step)
    return out


def _plain_pipelines(node: Any) -> None:
    """Apply :func:`student_pipeline` to every ``pipeline`` in a config."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'pipeline' and isinstance(value, list):
                node[key] = student_pipeline(value)
            else:
                _plain_pipelines(value)
    elif isinstance(node, list):
        for value in node:
            _plain_pipelines(value)


def is_distill_config(cfg: Config) -> bool:
    """Whether ``cfg`` is a distillation config (student + distiller)."""
    # any distiller (Distiller3D and its subclasses) wraps a student
    return 'distiller' in cfg or 'student' in cfg.get('model', {})


def student_config(cfg: Config, drop_custom_imports: bool = False) -> Config:
    """The student's own config from a distillation config.

    Args:
        cfg (Config): Distillation config (``distiller`` + the student as
            ``model``, or an already built ``Distiller3D`` model).
        drop_custom_imports (bool): Remove ``distill3d`` from
            ``custom_imports``.

    Returns:
        Config: A plain mmdet3d config of the student.
    """
    cfg = copy.deepcopy(cfg)
    if cfg.model.get('type') in DISTILLERS:
        student = cfg.model.student
        if isinstance(student, str):
            student = Config.fromfile(student).model
        cfg.model = ConfigDict(student)
    elif 'distiller' not in cfg:
        raise ValueError('not a distillation config: no `distiller` and the '
                         'model is not a Distiller3D')
    for key in DISTILL_KEYS:
        cfg.pop(key, None)
    optim = cfg.get('optim_wrapper', None)
    if optim is not None and optim.get('constructor') == \
            'AdversarialOptimWrapperConstructor':
        # the student's own optimizer (the discriminator's goes away)
        cfg.optim_wrapper = ConfigDict(optim['student'])
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key, None) is not None:
            _plain_pipelines(cfg[key])
    hooks = cfg.get('custom_hooks', None)
    if hooks:
        cfg.custom_hooks = [
            h for h in hooks if h.get('type') not in DISTILL_HOOKS
        ]
    if drop_custom_imports and cfg.get('custom_imports', None):
        imports = [
            m for m in cfg.custom_imports.get('imports', [])
            if m != 'distill3d' and not m.startswith('distill3d.')
        ]
        if imports:
            cfg.custom_imports.imports = imports
        else:
            cfg.pop('custom_imports')
    return cfg


def plain(value: Any) -> Any:
    """``value`` as plain Python data (lists, dicts, str, int, float...).

    numpy arrays and scalars become lists / numbers, tuples become lists,
    any other object raises TypeError.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for key, val in value.items():
            key = plain(key)
            if not isinstance(key, (str, int, float, bool)):
                key = str(key)
            out[key] = plain(val)
        return out
    raise TypeError(f'no plain form for {type(value).__name__}')


def plain_meta(meta: dict) -> Tuple[dict, List[str]]:
    """The checkpoint meta as plain data, and the keys that had none."""
    out, dropped = {}, []
    for key, value in meta.items():
        try:
            out[str(key)] = plain(value)
        except TypeError:
            dropped.append(str(key))
    return out, dropped


def split_state(state: Dict[str, torch.Tensor]):
    """The student's weights (prefix stripped) and counts of the rest."""
    student = OrderedDict()
    dropped: Dict[str, int] = OrderedDict()
    for key, value in state.items():
        if key.startswith('module.'):
            key = key[len('module.'):]
        if key.startswith(PREFIX):
            student[key[len(PREFIX):]] = value.detach().cpu().clone()
        else:
            group = key.split('.', 1)[0]
            dropped[group] = dropped.get(group, 0) + 1
    return student, dropped


def check_keys(cfg: Config, state: Dict[str, torch.Tensor]) -> int:
    """Build the student and check that ``state`` fits it exactly.

    Returns:
        int: The student's parameter count.
    """
    init_default_scope(cfg.get('default_scope', 'mmdet3d'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.train_cfg = None
    model = MODELS.build(model_cfg)
    mismatch = state_dict_mismatch(model.state_dict(), state)
    if mismatch:
        raise ValueError('the student weights do not fit the student config: '
                         + mismatch.describe())
    return sum(p.numel() for p in model.parameters())


def load_student_checkpoint(model: torch.nn.Module,
                            checkpoint: str) -> Dict[str, int]:
    """Load the student's weights of a checkpoint into a plain student.

    Reads a Distiller3D checkpoint (its ``student.*`` keys; the teacher's,
    the adapters' and the losses' keys are skipped) or a plain / exported
    student checkpoint. Nothing of the teacher is needed, neither its
    checkpoint nor its config.

    Args:
        model (nn.Module): The student built from its own config (a
            model wrapper or test-time-augmentation model is unwrapped to
            its ``module``).
        checkpoint (str): Path or URL of the checkpoint.

    Returns:
        dict: Number of keys skipped per top-level group (``teacher``,
        ``distill_losses``, ...).

    Raises:
        ValueError: When the checkpoint holds no state dict or its student
            weights do not fit ``model`` exactly (missing, unexpected or
            differently shaped keys, all named).
    """
    while hasattr(model, 'module'):
        model = model.module
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint} holds no state_dict')
    student, dropped = split_state(state)
    if not student:  # a plain or exported student checkpoint
        student = OrderedDict(
            (k[len('module.'):] if k.startswith('module.') else k, v)
            for k, v in state.items())
        dropped = OrderedDict()
    mismatch = state_dict_mismatch(model.state_dict(), student)
    if mismatch:
        raise ValueError(f'{checkpoint}: the student weights do not fit the '
                         'student config: ' + mismatch.describe())
    model.load_state_dict(student)
    return dict(dropped)


def export_student(config: str,
           checkpoint: str,
           out: str,
           out_config: Optional[str] = None,
           drop_custom_imports: bool = False) -> dict:
    """Write the student checkpoint (and config); returns a summary."""
    cfg = Config.fromfile(config)
    s_cfg = student_config(cfg, drop_custom_imports)
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint} holds no state_dict')
    student, dropped = split_state(state)
    if not student:
        raise ValueError(
            f'{checkpoint} has no {PREFIX!r} keys: not a Distiller3D '
            'checkpoint (a plain model checkpoint needs no export)')
    params = check_keys(s_cfg, student)
    meta, dropped_meta = plain_meta(ckpt.get('meta', {}) or {})
    meta['cfg'] = s_cfg.pretty_text
    meta['distill3d_export'] = dict(
        source_checkpoint=osp.abspath(checkpoint),
        dropped_key_groups=dict(dropped))
    torch.save(dict(meta=meta, state_dict=student), out)
    if out_config:
        s_cfg.dump(out_config)
    return dict(
        out=out,
        out_config=out_config,
        student_params=params,
        num_keys=len(student),
        dropped_key_groups=dict(dropped),
        dropped_meta=dropped_meta + [
            k for k in ('message_hub', 'optimizer', 'param_schedulers')
            if k in ckpt
        ])
