"""Forward-hook recorders on named modules of a student or teacher."""
import difflib
from typing import Any, Callable, List, Optional, Union

from torch import nn

from .record import Record, make_record


class RecordSpec:
    """What to record: a module name plus how to read its output.

    Args:
        spec (str | dict): A module name (``'neck'``, ``'bbox_head.conv_cls'``)
            or a dict with ``module`` and optionally ``output`` (keys/indices
            into a tuple/dict output), ``xyz`` (keys/indices of point
            coordinates in the output) and ``kind`` (force a record kind).
    """

    def __init__(self, spec: Union[str, dict]):
        if isinstance(spec, str):
            spec = dict(module=spec)
        unknown = set(spec) - {'module', 'output', 'xyz', 'kind'}
        if 'module' not in spec or unknown:
            raise ValueError(
                f'a record spec is a module name or a dict with keys module '
                f'(required), output, xyz, kind; got {spec}')
        self.module: str = spec['module']
        self.output: Optional[List[Any]] = _as_path(spec.get('output'))
        self.xyz: Optional[List[Any]] = _as_path(spec.get('xyz'))
        self.kind: Optional[str] = spec.get('kind')

    @property
    def key(self) -> str:
        """A unique name for this spec."""
        return f'{self.module}|{self.output}|{self.xyz}|{self.kind}'


def _as_path(value: Any) -> Optional[List[Any]]:
    if value is None:
        return None
    return list(value) if isinstance(value, (list, tuple)) else [value]


def find_module(model: nn.Module, name: str, side: str) -> nn.Module:
    """``model``'s submodule called ``name``, or a KeyError naming close ones.

    Args:
        model (nn.Module): Student or teacher.
        name (str): Dotted module name as in ``model.named_modules()``.
        side (str): 'student' or 'teacher', for the message.
    """
    modules = dict(model.named_modules())
    if name in modules and name != '':
        return modules[name]
    close = difflib.get_close_matches(name, list(modules), n=8, cutoff=0.5)
    top = sorted({n.split('.')[0] for n in modules if n})
    raise KeyError(
        f'{side} has no module named {name!r}. Close names: {close or "none"}'
        f'; top-level modules: {top}')


class ModuleRecorder:
    """Records one module's output through a forward hook.

    Recording is off until :meth:`start` and off again after :meth:`stop`,
    so validation and export never pay for it.

    Args:
        model (nn.Module): Model that owns the module.
        spec (RecordSpec): What to record.
        side (str): 'student' or 'teacher'.
        on_record (Callable, optional): Called after each record (the
            distiller uses it to stop the teacher forward early).
        bev_range (tuple, optional): Metric extent stamped on 'dense'
            records (see :func:`.bev_grid.model_bev_range`).
    """

    def __init__(self,
                 model: nn.Module,
                 spec: RecordSpec,
                 side: str,
                 on_record: Optional[Callable[[], None]] = None,
                 bev_range: Optional[tuple] = None):
        self.spec = spec
        self.side = side
        self.bev_range = bev_range
        self.module = find_module(model, spec.module, side)
        self.record: Optional[Record] = None
        self.active = False
        self.on_record = on_record
        self.module.register_forward_hook(self._hook)

    def _hook(self, module: nn.Module, args: tuple, output: Any) -> None:
        if not self.active:
            return
        self.record = make_record(args, output, self.spec.kind,
                                  self.spec.output, self.spec.xyz)
        if self.record.kind == 'dense':
            # a head may change its output map in place after the hook
            # (mmdet3d's CenterHead.loss_by_feat turns its heatmap logits
            # into probabilities with ``sigmoid_``): a KD term must read the
            # map as the module gave it (clone keeps the autograd graph)
            self.record.tensor = self.record.tensor.clone()
            self.record.bev_range = self.bev_range
        if self.on_record is not None:
            self.on_record()

    def start(self) -> None:
        """Clear the last record and start recording."""
        self.record = None
        self.active = True

    def stop(self) -> None:
        """Stop recording."""
        self.active = False


def infer_out_channels(module: nn.Module,
                       output: Optional[List[Any]] = None) -> Optional[int]:
    """Best-effort channel count of a module's output, without running it.

    Uses the module's ``out_channels`` (a list is summed, as mmdet3d's FPN
    necks concatenate, or indexed by an integer ``output`` path), or, for an
    integer ``output`` path, the indexed element of its ``blocks`` /
    ``stages`` / ``layers`` list, else the last layer with ``out_channels``
    / ``out_features`` / ``num_features``.

    Args:
        module (nn.Module): The module.
        output (list, optional): The record spec's output path.

    Returns:
        int | None: The channel count, or None when unknown.
    """
    value = getattr(module, 'out_channels', None)
    if isinstance(value, int):
        return value
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, int) for v in value):
        if output and isinstance(output[0], int):
            return value[output[0]]
        return sum(value) if output is None else None
    if output:
        # multi-output backbones (mmdet3d's SECOND) return one tensor per
        # block: look at the indexed block
        if isinstance(output[0], int):
            for attr in ('blocks', 'stages', 'layers', 'deblocks'):
                blocks = getattr(module, attr, None)
                if isinstance(blocks, nn.ModuleList) and \
                        -len(blocks) <= output[0] < len(blocks):
                    return infer_out_channels(blocks[output[0]])
            return None
        # a key of a dict output (e.g. PointNetFPNeck's 'fp_features'):
        # the module's last layer, checked again at the first forward
    concat = _concat_out_channels(module)
    if concat is not None:
        return concat
    last = None
    for sub in module.modules():
        for attr in ('out_channels', 'out_features', 'num_features'):
            val = getattr(sub, attr, None)
            if isinstance(val, int):
                last = val
                break
    return last


def _concat_out_channels(module: nn.Module) -> Optional[int]:
    """Channels of modules whose output concatenates branches (the walk
    over submodules in :func:`infer_out_channels` would see one branch)."""
    # mmdet3d's Asymm3DSpconv returns cat(ddcm(up), up): 4 * base_channels
    if type(module).__name__ == 'Asymm3DSpconv':
        ddcm = infer_out_channels(module.ddcm)
        up = infer_out_channels(module.up_block_list[0])
        if ddcm is not None and up is not None:
            return ddcm + up
    return None
