"""Data sets and data tools of distill3d."""
from . import transforms  # noqa: F401  (registrations)
