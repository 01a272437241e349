"""tools/export_student.py: a distillation checkpoint to a plain student.

A short FitNets PointPillars distillation run (1 iteration, teacher from a
saved checkpoint) writes ``epoch_1.pth``; the tool exports its student.
A fresh interpreter that never imports distill3d must read the result with
``weights_only=True`` and load it into the student config with mmdet3d's
``init_model`` with no missing or unexpected keys; in-process, the exported
student predicts exactly what the distiller's student predicts;
``tools/test.py`` tests the student of the distillation checkpoint with the
teacher's checkpoint deleted.
"""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from helpers import REPO, cpu_runner_cfg

FITNETS = ('distill/'
           'fitnets_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py')

# Runs in a fresh interpreter without distill3d.
PLAIN_CHECK = r'''
import json, sys
import torch
ckpt_path, cfg_path = sys.argv[1], sys.argv[2]
ckpt = torch.load(ckpt_path, map_location='cpu', weights_only=True)

def plain(x):
    if isinstance(x, dict):
        return all(isinstance(k, (str, int)) and plain(v)
                   for k, v in x.items())
    if isinstance(x, list):
        return all(plain(v) for v in x)
    return x is None or type(x) in (bool, int, float, str)

from mmengine.config import Config
from mmdet3d.apis import init_model
cfg = Config.fromfile(cfg_path)
model = init_model(cfg, ckpt_path, device='cpu')
own = model.state_dict()
state = ckpt['state_dict']
print(json.dumps(dict(
    keys=sorted(ckpt),
    meta_plain=plain(ckpt['meta']),
    dataset_meta=ckpt['meta'].get('dataset_meta'),
    missing=[k for k in own if k not in state],
    unexpected=[k for k in state if k not in own],
    different=[k for k in own if k in state and not torch.equal(
        own[k], state[k])],
    model=type(model).__name__,
    model_classes=list(model.dataset_meta['classes']),
    cfg_keys=sorted(cfg.keys()),
    distill3d_imported=sorted(
        m for m in sys.modules
        if m == 'distill3d' or m.startswith('distill3d.')))))
'''


def _load_tool(name: str = 'export_student'):
    spec = importlib.util.spec_from_file_location(
        f'{name}_tool', osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _train_cfg(data_root, work_dir, teacher_ckpt):
    cfg = cpu_runner_cfg(FITNETS, data_root, work_dir, max_epochs=1)
    cfg.teacher_ckpt = teacher_ckpt
    # 2 of the 4 frames at batch 2: a single iteration, no validation
    cfg.train_dataloader.dataset.dataset.indices = 2
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


def _predict(model, batch):
    model.eval()
    with torch.no_grad():
        (sample, ) = model.test_step(batch)
    pred = sample.pred_instances_3d
    return pred.bboxes_3d.tensor, pred.scores_3d, pred.labels_3d


@pytest.mark.slow
def test_export_student(synthetic_kitti, tmp_path, monkeypatch, capsys):
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import RUNNERS, init_default_scope

    from mmdet3d.apis import init_model
    from mmdet3d.registry import DATASETS, MODELS

    from distill3d.utils import set_data_root

    # a teacher checkpoint (an initialised teacher) for the distiller
    init_default_scope('mmdet3d')
    distill_cfg = Config.fromfile(osp.join(REPO, 'configs', FITNETS))
    teacher = MODELS.build(Config.fromfile(distill_cfg.teacher_cfg).model)
    teacher_ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), teacher_ckpt)

    work = str(tmp_path / 'work')
    runner = RUNNERS.build(_train_cfg(synthetic_kitti, work, teacher_ckpt))
    runner.train()
    distiller = runner.model
    ckpt = osp.join(work, 'epoch_1.pth')

    # the distillation config as the user has it (data root re-pointed)
    set_data_root(distill_cfg, synthetic_kitti)
    distill_cfg.teacher_ckpt = teacher_ckpt
    cfg_file = str(tmp_path / 'fitnets.py')
    distill_cfg.dump(cfg_file)

    out = str(tmp_path / 'student.pth')
    out_cfg = str(tmp_path / 'student_cfg.py')
    monkeypatch.setattr(sys, 'argv', [
        'export_student.py', cfg_file, ckpt, '--out', out, '--out-config',
        out_cfg, '--no-custom-imports'
    ])
    _load_tool().main()
    printed = capsys.readouterr().out
    n_student = sum(p.numel() for p in distiller.student.parameters())
    assert f'student params: {n_student:,}' in printed
    assert 'teacher.*' in printed and 'adapters.*' in printed

    # (a) plain mmdet3d, no distill3d: weights-only load and init_model
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    proc = subprocess.run([sys.executable, '-c', PLAIN_CHECK, out, out_cfg],
                          cwd=str(tmp_path), env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res['distill3d_imported'] == []
    assert res['keys'] == ['meta', 'state_dict']
    assert res['meta_plain']
    assert res['missing'] == [] and res['unexpected'] == []
    assert res['different'] == []
    assert res['model'] == 'VoxelNet'
    assert res['model_classes'] == ['Pedestrian', 'Cyclist', 'Car']
    for key in ('runner_type', 'distiller', 'teacher_cfg', 'teacher_ckpt',
                'custom_imports'):
        assert key not in res['cfg_keys']

    # exactly the distiller's student weights, nothing else
    exported = torch.load(out, weights_only=True)['state_dict']
    student = distiller.student.state_dict()
    assert set(exported) == set(student)
    for k, v in student.items():
        assert torch.equal(exported[k], v), k

    # (b) the exported student predicts what the distiller's student does
    s_cfg = Config.fromfile(out_cfg)
    plain_model = init_model(s_cfg, out, device='cpu')
    for model in (plain_model.bbox_head, distiller.student.bbox_head):
        model.test_cfg.score_thr = 0.0  # untrained scores are low
    dataset = DATASETS.build(s_cfg.val_dataloader.dataset)
    batch = pseudo_collate([dataset[0]])
    boxes, scores, labels = _predict(plain_model, batch)
    d_boxes, d_scores, d_labels = _predict(distiller, batch)
    assert len(scores) > 0
    assert torch.equal(boxes, d_boxes)
    assert torch.equal(scores, d_scores)
    assert torch.equal(labels, d_labels)

    # (c) tools/test.py tests the student without the teacher's checkpoint
    # (issue 15): the teacher is not built, the student weights are the
    # distiller's, and the config's metric runs
    os.remove(teacher_ckpt)
    test_tool = _load_tool('test')
    monkeypatch.setattr(sys, 'argv', [
        'test.py', cfg_file, ckpt, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ])
    args = test_tool.parse_args()
    runner = test_tool.build_runner(test_tool.build_cfg(args), ckpt)
    assert type(runner.model).__name__ == 'VoxelNet'
    tested = runner.model.state_dict()
    assert set(tested) == set(student)
    for k, v in student.items():
        assert torch.equal(tested[k], v), k
    metrics = runner.test()
    assert any('Overall_3D_AP40_moderate' in k for k in metrics)
    # a checkpoint of another model is refused, naming the file and keys
    from distill3d.apis import load_student_checkpoint
    other = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict=distiller.teacher.state_dict()), other)
    with pytest.raises(ValueError, match='other.pth.*do not fit'):
        load_student_checkpoint(plain_model, other)


def test_student_config_drops_the_teacher_input_pipeline():
    """M2SKD's train pipeline builds the teacher's fused input; the
    exported student's config trains on the scan alone with mmdet3d's
    transforms only."""
    from mmengine.config import Config

    from distill3d.apis import student_config
    path = osp.join(REPO, 'projects', 'M2SKD', 'configs',
                    'm2skd_cylinder3d_1xb2-cpu_synthetic-semantickitti.py')
    cfg = student_config(Config.fromfile(path), drop_custom_imports=True)
    steps = cfg.train_dataloader.dataset.pipeline
    kinds = [s['type'] for s in steps]
    assert 'MultiScanHardInstanceFusion' not in kinds
    assert 'SplitFusedPoints' not in kinds
    assert kinds[-1] == 'Pack3DDetInputs'
    assert not any(k.startswith('teacher_') for k in steps[-1]['keys'])
    assert 'custom_imports' not in cfg and 'distiller' not in cfg
