from .data_root import set_data_root
from .dist import use_gloo_on_cpu
from .safe_globals import register_safe_globals, safe_globals

__all__ = ['register_safe_globals', 'safe_globals', 'set_data_root',
           'use_gloo_on_cpu']
