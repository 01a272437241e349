from .config_format_cache import enable_config_format_cache
from .config_scope import register_config_scope
from .data_root import set_data_root
from .dist import use_gloo_on_cpu
from .safe_globals import (load_weights_only, register_safe_globals,
                           safe_globals)
from .startup_heap import freeze_startup_objects
from .state_dict import (StateDictMismatch, load_student_weights,
                         state_dict_mismatch)

__all__ = [
    'StateDictMismatch', 'enable_config_format_cache',
    'register_config_scope', 'register_safe_globals',
    'safe_globals', 'load_weights_only', 'load_student_weights',
    'set_data_root', 'state_dict_mismatch', 'use_gloo_on_cpu',
    'freeze_startup_objects'
]
