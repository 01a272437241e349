"""Data sets and data tools of distill3d."""
from . import transforms  # noqa: F401  (registrations)
from .file_errors import name_files_in_pipeline_errors
from .modelnet40 import ModelNet40Dataset  # noqa: F401
from .scanobjectnn import ScanObjectNNDataset  # noqa: F401

name_files_in_pipeline_errors()
