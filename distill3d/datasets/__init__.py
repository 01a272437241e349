"""Data sets and data tools of distill3d."""
