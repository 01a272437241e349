"""Data sets and data tools of distill3d."""
from . import transforms  # noqa: F401  (registrations)
from .modelnet40 import ModelNet40Dataset  # noqa: F401
from .scanobjectnn import ScanObjectNNDataset  # noqa: F401
