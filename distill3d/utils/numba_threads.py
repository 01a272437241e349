# Copyright (c) distill3d contributors. All rights reserved.
"""Keep numba's parallel kernels from raising torch's thread count.

mmdet3d's KITTI metric runs ``d3_box_overlap_kernel``, a
``numba.jit(parallel=True)`` kernel. numba's ``omp`` threading layer binds
to the libgomp that torch has already loaded and starts its pool with
``NUMBA_NUM_THREADS`` threads (all cores by default), which leaves the
OpenMP thread count of the calling thread there: after the first KITTI
validation, a training process started with ``OMP_NUM_THREADS=1`` runs
torch on all cores. Two such trainings side by side then oversubscribe
the machine; on 2 cores a CenterPoint step went from 2.3 s to 10.5 s
after the first validation epoch.

:func:`match_numba_threads` sets ``NUMBA_NUM_THREADS`` to
``OMP_NUM_THREADS`` when the latter is set and the former is not. numba
reads it once, when it is first imported, so ``import distill3d`` must
come before anything imports numba (mmdet3d's evaluation does; the tools
import distill3d first). After numba, it is too late: the function then
leaves everything as it is and says so in its return value.
"""
import os
import sys


def match_numba_threads() -> bool:
    """Give numba's thread pool ``OMP_NUM_THREADS`` threads.

    Returns:
        bool: Whether ``NUMBA_NUM_THREADS`` now equals
        ``OMP_NUM_THREADS`` (True when neither bounds the other: no
        ``OMP_NUM_THREADS``).
    """
    omp = os.environ.get('OMP_NUM_THREADS')
    if not omp:
        return True
    if 'NUMBA_NUM_THREADS' not in os.environ and 'numba' not in sys.modules:
        os.environ['NUMBA_NUM_THREADS'] = omp
    return os.environ.get('NUMBA_NUM_THREADS') == omp
