from .bev_grid import model_bev_range, resample_teacher, same_grid
from .module_recorder import (ModuleRecorder, RecordSpec, find_module,
                              infer_out_channels)
from .record import KINDS, Record, make_record, match_rows

__all__ = [
    'KINDS', 'ModuleRecorder', 'Record', 'RecordSpec', 'find_module',
    'infer_out_channels', 'make_record', 'match_rows', 'model_bev_range',
    'resample_teacher', 'same_grid'
]
