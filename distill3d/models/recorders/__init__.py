from .module_recorder import (ModuleRecorder, RecordSpec, find_module,
                              infer_out_channels)
from .record import KINDS, Record, make_record, match_rows

__all__ = [
    'KINDS', 'ModuleRecorder', 'Record', 'RecordSpec', 'find_module',
    'infer_out_channels', 'make_record', 'match_rows'
]
