# Copyright (c) distill3d contributors. All rights reserved.
"""Two optimizers for adversarial distillation: student and
discriminator."""
import copy
from collections import OrderedDict
from typing import Dict, Optional

from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from torch import nn

from mmdet3d.registry import OPTIM_WRAPPER_CONSTRUCTORS

GROUPS = ('student', 'discriminator')


class _ModuleView(nn.Module):
    """A module that only groups existing modules (no copies), so that
    mmengine's ``DefaultOptimWrapperConstructor`` (and its
    ``paramwise_cfg``) can build an optimizer over a subset of a model."""

    def __init__(self, modules: Dict[str, nn.Module]) -> None:
        super().__init__()
        for name, module in modules.items():
            self.add_module(name.replace('.', '__'), module)


def split_modules(distiller: nn.Module) -> Dict[str, Dict[str, nn.Module]]:
    """Student-side and discriminator modules of an adversarial distiller.

    Student side: every child of the distiller but the teacher, with each
    adversarial loss's ``discriminator`` left out (its other children, if
    any, stay). Discriminator side: ``distiller.discriminator_modules()``.

    Args:
        distiller (nn.Module): An ``AdversarialDistiller3D``.

    Returns:
        dict: ``{'student': {name: module}, 'discriminator': {...}}``.
    """
    if not hasattr(distiller, 'discriminator_modules'):
        raise TypeError(
            'AdversarialOptimWrapperConstructor needs a model with '
            'discriminators (AdversarialDistiller3D), got '
            f'{type(distiller).__name__}')
    discs = distiller.discriminator_modules()
    disc_ids = {id(m) for m in discs.values()}
    student: Dict[str, nn.Module] = OrderedDict()
    for name, child in distiller.named_children():
        if name == 'teacher':
            continue
        if name == 'distill_losses':
            for term, loss in child.items():
                if getattr(loss, 'discriminator', None) is None or \
                        id(loss.discriminator) not in disc_ids:
                    student[f'{name}.{term}'] = loss
                    continue
                for sub, module in loss.named_children():
                    if id(module) not in disc_ids:
                        student[f'{name}.{term}.{sub}'] = module
            continue
        student[name] = child
    return dict(
        student=student,
        discriminator=OrderedDict(
            (f'distill_losses.{k}.discriminator', v)
            for k, v in discs.items()))


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class AdversarialOptimWrapperConstructor:
    """Builds ``OptimWrapperDict(student=..., discriminator=...)``.

    Config (``optim_wrapper`` of a FAD config)::

        optim_wrapper = dict(
            constructor='AdversarialOptimWrapperConstructor',
            student=dict(type='OptimWrapper',
                         optimizer=dict(type='Adam', lr=1e-3),
                         paramwise_cfg=None),          # optional
            discriminator=dict(type='OptimWrapper',
                               optimizer=dict(type='Adam', lr=1e-4,
                                              betas=(0.5, 0.999))))

    ``student`` optimises the student, the adapters and any other
    trainable distillation part; ``discriminator`` the discriminators of
    the adversarial terms. The teacher is in neither. Every trainable
    parameter of the distiller must land in exactly one group (checked).
    Each group may carry its own ``paramwise_cfg``; a top-level
    ``paramwise_cfg`` applies to both.

    Args:
        optim_wrapper_cfg (dict): ``student`` and ``discriminator`` wrapper
            configs.
        paramwise_cfg (dict, optional): Default paramwise config.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        cfg = dict(optim_wrapper_cfg)
        missing = [g for g in GROUPS if g not in cfg]
        extra = sorted(set(cfg) - set(GROUPS))
        if missing or extra:
            raise KeyError(
                'AdversarialOptimWrapperConstructor: optim_wrapper needs '
                f'exactly the keys {GROUPS} (besides constructor and '
                f'paramwise_cfg); missing {missing}, unknown {extra}')
        self.cfgs = {g: copy.deepcopy(dict(cfg[g])) for g in GROUPS}
        self.paramwise_cfg = paramwise_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        """Build the two wrappers for ``model`` (a distiller, possibly
        wrapped by DDP)."""
        if is_model_wrapper(model):
            model = model.module
        groups = split_modules(model)
        wrappers = OrderedDict()
        seen: Dict[int, str] = {}
        for group in GROUPS:
            cfg = copy.deepcopy(self.cfgs[group])
            paramwise = cfg.pop('paramwise_cfg', self.paramwise_cfg)
            view = _ModuleView(groups[group])
            for param in view.parameters():
                if id(param) in seen:
                    raise RuntimeError(
                        f'a parameter is in both the {seen[id(param)]!r} '
                        f'and the {group!r} optimizer')
                seen[id(param)] = group
            wrappers[group] = DefaultOptimWrapperConstructor(
                cfg, paramwise)(view)
        # a registered teacher child (a shared-weight teacher is the
        # student itself and is optimised as the student)
        teacher = dict(model.named_children()).get('teacher', None)
        teacher_ids = {id(p) for p in teacher.parameters()} \
            if teacher is not None else set()
        left = [
            name for name, p in model.named_parameters()
            if p.requires_grad and id(p) not in seen
            and id(p) not in teacher_ids
        ]
        if left:
            raise RuntimeError(
                f'trainable parameters in no optimizer: {left[:5]}'
                f'{" ..." if len(left) > 5 else ""}')
        if teacher_ids & set(seen):
            raise RuntimeError('teacher parameters must not be optimised')
        return OptimWrapperDict(**wrappers)
