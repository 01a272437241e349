"""spconv 2.x on CPU for mmdet3d's SECOND (and any spconv-based model).

Sparse max pooling (Part-A2's RoI head) takes the same route: native index
pairs for CPU inputs.

spconv-cu120 picks the GPU-only ``MaskImplicitGemm`` algorithm when a layer
is built, and in eval mode fuses the bias into the kernel call, which its
CPU path rejects ("cpu don't support act and bias"). For CPU inputs only,
the layer runs with ``ConvAlgo.Native`` and adds bias (and any activation)
after the convolution; weights keep spconv's KRSC layout, so checkpoints are
unchanged. CUDA inputs take spconv's own path untouched.
"""
import warnings

from .dispatch import ROUTED, announce


def register() -> bool:
    """Patch ``spconv.pytorch.conv.SparseConvolution`` for CPU inputs.

    Returns:
        bool: False if spconv is not installed.
    """
    try:
        with warnings.catch_warnings():
            # spconv 2.3.6 decorates with torch.cuda.amp.custom_fwd at import
            warnings.simplefilter('ignore', FutureWarning)
            from spconv.core import ConvAlgo
            from spconv.pytorch import conv as spconv_conv
        from cumm import tensorview as tv
    except ImportError:
        return False
    cls = spconv_conv.SparseConvolution
    original = cls._conv_forward
    if getattr(original, '_distill3d_cpu', False):
        return True
    none_act = tv.gemm.Activation.None_

    def _conv_forward(self, training, input, weight, bias, *args, **kwargs):
        if input.features.is_cuda:
            return original(self, training, input, weight, bias, *args,
                            **kwargs)
        announce()
        act_type = kwargs.pop('act_type', none_act)
        act_alpha = kwargs.pop('act_alpha', 0.)
        act_beta = kwargs.pop('act_beta', 0.)
        algo, self.algo = self.algo, ConvAlgo.Native
        try:
            # training=True: bias is added after the conv, not fused.
            out = original(self, True, input, weight, bias, *args, **kwargs)
        finally:
            self.algo = algo
        if act_type != none_act:
            out = out.replace_feature(
                spconv_conv._apply_act(out.features, act_type, act_alpha,
                                       act_beta))
        return out

    _conv_forward._distill3d_cpu = True
    cls._conv_forward = _conv_forward
    ROUTED.append('spconv.pytorch.conv.SparseConvolution (Native on CPU)')
    _register_pool(ConvAlgo)
    return True


def _register_pool(conv_algo) -> None:
    """Sparse max pooling (Part-A2's RoI head) with ``ConvAlgo.Native``
    for CPU inputs (spconv's implicit-GEMM index pairs ask for a CUDA
    stream)."""
    from spconv.pytorch import pool as spconv_pool
    cls = spconv_pool.SparseMaxPool
    original = cls.forward
    if getattr(original, '_distill3d_cpu', False):
        return

    def forward(self, input):
        if input.features.is_cuda:
            return original(self, input)
        announce()
        algo, self.algo = self.algo, conv_algo.Native
        try:
            return original(self, input)
        finally:
            self.algo = algo

    forward._distill3d_cpu = True
    cls.forward = forward
    ROUTED.append('spconv.pytorch.pool.SparseMaxPool (Native on CPU)')
