# Copyright (c) distill3d contributors. All rights reserved.
"""The study ledger: every finished run's evaluation, kept next to the
report (``study_runs.json`` beside ``study.json``) so that a study can
span sessions whose work dirs do not survive.

A study that needs more hours than one session has would otherwise lose
its finished runs with their checkpoints. The ledger keeps what the
report needs of each run (metrics, bootstrap noise and resampled values,
training time and command), keyed by row and seed, with the run's
*portable* settings: its training stamp (:meth:`Run.settings`) without
the identity (size, mtime) of the files it started from, which no later
session can have. A run is taken from the ledger while these settings
are the same.

A run whose checkpoint a later step needs (the teacher, the student it
starts from, when a distillation run is missing) is trained again. CPU
training is not bit-reproducible (Cylinder3D through spconv differs run
to run at the same seed), so that *rerun* is a new sample of the same
settings: it is kept under the entry's ``reruns`` and the entry's own
result, which earlier method runs were paired with, stays the reported
one. Each distillation run records the results of the teacher it was
distilled from (``upstream``); the study gates every teacher instance it
distils from, not only the first.
"""
import fcntl
import json
import os
import os.path as osp
import threading
import time
from typing import Dict, Optional, Sequence

import numpy as np

from .study_runs import read_json, training_settings, write_json

#: the ledger's file name, next to the report
LEDGER = 'study_runs.json'
VERSION = 1
#: decimals kept of each bootstrap resample's value (percent points)
BOOT_DECIMALS = 4

_lock = threading.Lock()


def portable_settings(settings: dict) -> dict:
    """A run's training stamp without the identity of its input files.

    Args:
        settings (dict): :meth:`Run.settings`.

    Returns:
        dict: :func:`training_settings` without ``teacher`` and ``init``
        (size and mtime of ``teacher_ckpt`` / ``load_from``); those
        options' paths stay.
    """
    out = training_settings(settings)
    out = {k: v for k, v in out.items() if k not in ('teacher', 'init')}
    return json.loads(json.dumps(out))


def run_key(row: str, seed: int) -> str:
    """The ledger key of one run."""
    return f'{row} | seed {seed}'


def headline(result: dict, metrics: Sequence[str]) -> Dict[str, float]:
    """The headline metrics of a result (rounded to 1e-6)."""
    return {m: round(float(result['metrics'][m]), 6)
            for m in metrics if m in result.get('metrics', {})}


class StudyLedger:
    """The finished runs of one study, in one JSON file.

    Writes are atomic and take an exclusive lock on ``<path>.lock`` and
    re-read the file first, so two study processes (``--rows`` of
    different methods) can record into the same ledger.

    Args:
        path (str): The ledger file (``<out_dir>/study_runs.json``).
        metrics (Sequence[str]): The study's headline metrics (what an
            upstream record and the kept bootstrap values cover).
    """

    def __init__(self, path: str, metrics: Sequence[str]) -> None:
        self.path = path
        self.metrics = list(metrics)

    def _load(self) -> dict:
        data = read_json(self.path) or {}
        if data and data.get('version') != VERSION:
            raise ValueError(f'{self.path}: ledger version '
                             f'{data.get("version")!r}, expected {VERSION}')
        return data.get('runs', {})

    def entries(self) -> Dict[str, dict]:
        """Every recorded run, by :func:`run_key`."""
        return self._load()

    def lookup(self, row: str, seed: int,
               settings: dict) -> Optional[dict]:
        """The recorded run of ``row`` and ``seed`` if it was made with
        these settings, else None.

        Args:
            row (str): Row name.
            seed (int): Seed.
            settings (dict): The run's :meth:`Run.settings` now.

        Returns:
            dict | None: The entry (``result``, ``seconds``, ``command``,
            ``upstream``, ``recorded``, maybe ``curve``, ``reruns``).
        """
        entry = self._load().get(run_key(row, seed))
        if entry is None or entry.get('settings') != \
                portable_settings(settings):
            return None
        return entry

    def record(self, row: str, seed: int, settings: dict, result: dict,
               seconds: float, command: str,
               upstream: Optional[Dict[str, dict]] = None,
               curve: Optional[list] = None,
               imported: Optional[str] = None,
               rerun: bool = False,
               checkpoint_id: Optional[dict] = None) -> dict:
        """Record (or replace) one evaluated run.

        Args:
            row (str): Row name.
            seed (int): Seed.
            settings (dict): The run's :meth:`Run.settings`.
            result (dict): Its evaluation
                (:func:`~.study_runs.evaluate`); the bootstrap values of
                the headline metrics are copied from its
                ``bootstrap_file`` when that exists.
            seconds (float): Training wall time.
            command (str): Training command.
            upstream (dict, optional): name ('teacher', 'init') -> the
                evaluation result of the run this one started from; its
                headline metrics are kept.
            curve (list, optional): A teacher's validation curve.
            imported (str, optional): Where an entry not evaluated here
                comes from (an earlier report).
            rerun (bool): A retraining of a recorded run with the same
                settings (for its checkpoint): appended to the recorded
                entry's ``reruns`` (headline metrics, noise, time), which
                keeps its result. Recorded as a new entry when there is
                none.

        Returns:
            dict: The entry written.
        """
        entry = dict(
            row=row,
            seed=int(seed),
            settings=portable_settings(settings),
            upstream={k: headline(v, self.metrics)
                      for k, v in (upstream or {}).items()},
            result=portable_result(result, self.metrics),
            seconds=float(seconds),
            command=command,
            recorded=time.strftime('%Y-%m-%d %H:%M:%S'))
        if checkpoint_id is not None:
            entry['checkpoint_id'] = checkpoint_id
        if curve is not None:
            entry['curve'] = curve
        if imported is not None:
            entry['imported'] = imported
        os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
        with _lock, open(self.path + '.lock', 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            runs = self._load()
            key = run_key(row, seed)
            if rerun and key in runs and runs[key]['settings'] == \
                    entry['settings']:
                known = [runs[key].get('checkpoint_id')] + [
                    r.get('checkpoint_id')
                    for r in runs[key].get('reruns', [])]
                if checkpoint_id is None or checkpoint_id not in known:
                    runs[key].setdefault('reruns', []).append(dict(
                        metrics=headline(result, self.metrics),
                        noise=entry['result'].get('noise', {}),
                        upstream=entry['upstream'],
                        seconds=entry['seconds'],
                        recorded=entry['recorded'],
                        checkpoint_id=checkpoint_id))
                entry = runs[key]
            else:
                runs[key] = entry
            write_json(self.path, dict(version=VERSION,
                                       runs=dict(sorted(runs.items()))))
        return entry


def portable_result(result: dict, metrics: Sequence[str]) -> dict:
    """What the report needs of an evaluation result, with the bootstrap
    resamples of the headline metrics inlined (``bootstrap``) instead of
    a path into a work dir."""
    keep = ('metrics', 'noise', 'interval', 'classes', 'num_frames')
    out = {k: result[k] for k in keep if k in result}
    boot = result.get('bootstrap')
    path = result.get('bootstrap_file')
    if boot is None and path and osp.isfile(path):
        with open(path) as f:
            raw = json.load(f)
        boot = dict(
            indices_seed=raw['indices_seed'],
            num_frames=raw['num_frames'],
            num_samples=raw['num_samples'],
            values={
                m: np.round(np.asarray(raw['values'][m], dtype=np.float64),
                            BOOT_DECIMALS).tolist()
                for m in metrics if m in raw['values']
            })
    if boot is not None:
        out['bootstrap'] = boot
    return out
