"""What the multi-scan teacher gets right that single-scan students do not.

Usage (from the repository root):
    python projects/M2SKD/tools/teacher_vs_student.py TEACHER_CONFIG \\
        TEACHER_CKPT --student NAME CONFIG CKPT [--student ...] \\
        [--data-root DIR] [--max-scans N] [--work-dir DIR] [--out F.json]

``TEACHER_CONFIG`` is the multi-scan teacher's config: its test pipeline
fuses the hard-class instances of earlier scans into each validation
scan (the scan's points first, ``num_scan_points`` recorded), so the
teacher predicts from the input it has during distillation. Each
``--student`` (a plain config or a distillation config with its
checkpoint; the student is exported) predicts from the single scan. Both
run through mmdet3d's own test pipeline and model (``test_step``), on the
same validation scans in the same order; the teacher's predictions are
cropped to the scan's own points, which must carry the student's labels
(checked per scan).

Per class, over the scan points of that class (ignored points left out),
it reports the teacher's and the student's accuracy and the shares of
points that both / only the teacher / only the student / neither get
right (:func:`distill3d.benchmark.soft_targets.prediction_agreement`),
plus what the student predicts where only the teacher is right (its
three most frequent wrong classes): what distillation from this teacher
could teach, class by class, and what the student confuses it with.
Nothing is trained.
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.runner import Runner

import distill3d  # noqa: F401  (CPU support, registrations)
from distill3d.benchmark.evaluate import (ModelSpec, config_for_test,
                                          plain_model)
from distill3d.benchmark.soft_targets import prediction_agreement
from distill3d.evaluation.summary import HARD_SEG_CLASSES

Scan = Tuple[np.ndarray, np.ndarray]  # (predictions (N, ), labels (N, ))


def _numpy(x) -> np.ndarray:
    return x.cpu().numpy() if torch.is_tensor(x) else np.asarray(x)


def predict_scans(config: str, checkpoint: str, work_dir: str,
                  data_root: Optional[str] = None,
                  max_scans: Optional[int] = None,
                  name: str = 'model') -> Tuple[List[Scan], List[str]]:
    """Per-point predictions of a model on its test split's scans.

    Args:
        config (str): A plain or a distillation config (the student is
            exported into ``work_dir``).
        checkpoint (str): Its checkpoint.
        work_dir (str): Scratch directory (export, test runner).
        data_root (str, optional): Point the config at this data root.
        max_scans (int, optional): Stop after this many scans.
        name (str): Name of the model in messages and file names.

    Returns:
        tuple: the scans, each ``(pred (N, ), label (N, ))`` cropped to
        the first ``num_scan_points`` points where the sample records it;
        and the data set's class names.
    """
    cfg_path, ckpt = plain_model(ModelSpec(name, config, checkpoint),
                                 osp.join(work_dir, 'export'))
    cfg = config_for_test(cfg_path, ckpt, osp.join(work_dir, name),
                          data_root)
    cfg.test_dataloader.batch_size = 1
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    loader = runner.test_loop.dataloader
    classes = list(loader.dataset.metainfo['classes'])
    model = runner.model.eval()
    scans: List[Scan] = []
    with torch.no_grad():
        for batch in loader:
            for sample in model.test_step(batch):
                pred = _numpy(sample.pred_pts_seg.pts_semantic_mask)
                label = _numpy(sample.eval_ann_info['pts_semantic_mask'])
                n = sample.metainfo.get('num_scan_points')
                if n is not None:
                    pred, label = pred[:n], label[:n]
                scans.append((pred.reshape(-1), label.reshape(-1)))
            if max_scans is not None and len(scans) >= max_scans:
                return scans[:max_scans], classes
    return scans, classes


def compare(teacher: Sequence[Scan], student: Sequence[Scan],
            classes: Sequence[str],
            hard: Sequence[str] = HARD_SEG_CLASSES) -> Dict[str, dict]:
    """Teacher against student, per class, on the same scan points.

    Args:
        teacher (Sequence[Scan]): The teacher's scans (cropped).
        student (Sequence[Scan]): The student's scans, same order.
        classes (Sequence[str]): Class names; labels outside
            ``[0, len(classes))`` are ignored.
        hard (Sequence[str]): Classes summed into the ``hard`` row.

    Returns:
        dict: class name (and ``'hard'``, ``'all'``) -> ``points``,
        ``teacher_acc``, ``student_acc`` (in %), the
        :func:`prediction_agreement` shares and ``confusions`` (the
        student's three most frequent classes where only the teacher is
        right, as ``[name, % of those points]``).
    """
    if len(teacher) != len(student):
        raise ValueError(f'the teacher has {len(teacher)} scans, the '
                         f'student {len(student)}')
    t_all, s_all, l_all = [], [], []
    for i, ((t_pred, t_lab), (s_pred, s_lab)) in enumerate(
            zip(teacher, student)):
        if not np.array_equal(t_lab, s_lab):
            raise ValueError(
                f'scan {i}: the teacher\'s scan points do not carry the '
                f'student\'s labels ({len(t_lab)} against {len(s_lab)} '
                'points): are both configs on the same split and data '
                'root, and does the teacher pipeline put the scan first?')
        t_all.append(t_pred)
        s_all.append(s_pred)
        l_all.append(s_lab)
    t_pred, s_pred, labels = (np.concatenate(x) for x in (t_all, s_all,
                                                          l_all))
    valid = (labels >= 0) & (labels < len(classes))
    groups = {c: labels == i for i, c in enumerate(classes)}
    groups['hard'] = np.isin(labels, [classes.index(c) for c in hard
                                      if c in classes])
    groups['all'] = valid
    out = {}
    for name, mask in groups.items():
        mask = mask & valid
        t, s, lab = t_pred[mask], s_pred[mask], labels[mask]
        shares = prediction_agreement(t, s, lab)
        row = dict(points=int(mask.sum()),
                   teacher_acc=shares['both_right'] + shares['teacher_only'],
                   student_acc=shares['both_right'] + shares['student_only'],
                   **shares)
        taught = s[(t == lab) & (s != lab)]
        ids, counts = np.unique(taught, return_counts=True)
        top = np.argsort(-counts)[:3]
        row['confusions'] = [[
            classes[ids[j]] if 0 <= ids[j] < len(classes) else str(ids[j]),
            float(100 * counts[j] / len(taught))
        ] for j in top]
        out[name] = row
    return out


def format_table(name: str, rows: Dict[str, dict],
                 hard: Sequence[str] = HARD_SEG_CLASSES) -> str:
    """A markdown table of :func:`compare`'s rows for one student."""
    lines = [
        f'### teacher (fused input) vs {name} (single scan), scan points',
        '',
        '| class | points | teacher acc | student acc | teacher only | '
        'student only | student predicts, where only the teacher is '
        'right |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |'
    ]
    for cls, r in rows.items():
        label = f'**{cls}**' if cls in hard or cls == 'hard' else cls
        conf = ', '.join(f'{c} {p:.0f}%' for c, p in r['confusions'])
        lines.append(f'| {label} | {r["points"]} | {r["teacher_acc"]:.1f} '
                     f'| {r["student_acc"]:.1f} | {r["teacher_only"]:.1f} '
                     f'| {r["student_only"]:.1f} | {conf} |')
    return '\n'.join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='What the multi-scan teacher gets right that '
        'single-scan students do not, per class.')
    parser.add_argument('teacher_config')
    parser.add_argument('teacher_ckpt')
    parser.add_argument('--student', nargs=3, action='append',
                        metavar=('NAME', 'CONFIG', 'CKPT'), required=True)
    parser.add_argument('--data-root')
    parser.add_argument('--max-scans', type=int)
    parser.add_argument('--work-dir', default='work_dirs/teacher_vs_student')
    parser.add_argument('--out', help='JSON file for the per-class rows')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    teacher, classes = predict_scans(args.teacher_config, args.teacher_ckpt,
                                     args.work_dir, args.data_root,
                                     args.max_scans, name='teacher')
    result = dict(teacher=dict(config=args.teacher_config,
                               checkpoint=args.teacher_ckpt),
                  scans=len(teacher), students={})
    for name, config, ckpt in args.student:
        scans, _ = predict_scans(config, ckpt, args.work_dir,
                                 args.data_root, args.max_scans, name=name)
        rows = compare(teacher, scans, classes)
        result['students'][name] = dict(config=config, checkpoint=ckpt,
                                        classes=rows)
        print(format_table(name, rows), '\n', flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
