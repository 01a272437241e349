"""The study report's per-class table (distill3d.benchmark.study_report)."""
from distill3d.benchmark.study_report import markdown, per_class_table


def _study(task, seeds):
    return dict(
        settings=dict(task=task),
        rows=[
            dict(name='plain', seeds=seeds),
            dict(name='not run', seeds={}),
        ])


def test_per_class_table_means_over_seeds():
    seeds = {
        '0': {'mIoU': 40., 'IoU car': 80., 'IoU person (hard)': 10.},
        '1': {'mIoU': 42., 'IoU car': 70., 'IoU person (hard)': 20.},
    }
    lines = per_class_table(_study('seg', seeds))
    assert '| row | seeds | car | person (hard) |' in lines
    assert '| plain | 2 | 75.0 | 15.0 |' in lines
    assert not any(line.startswith('| not run') for line in lines)
    # a key missing on one seed is not averaged over the others
    del seeds['1']['IoU car']
    assert '| plain | 2 | - | 15.0 |' in per_class_table(_study('seg',
                                                                  seeds))
    # detection: BEV AP per class; classification: no table
    det = {'0': {'BEV mAP': 50., 'BEV AP Car': 60., '3D AP Car': 40.}}
    assert '| plain | 1 | 60.0 |' in per_class_table(_study('det', det))
    assert per_class_table(_study('cls', {'0': {'OA': 80.}})) == []


def test_markdown_holds_the_per_class_table():
    study = dict(
        title='t', metric='hard mIoU',
        settings=dict(task='seg', metrics=['hard mIoU'], seeds=[0],
                      data=dict(type='semantickitti', root='r'),
                      gate_margin=3.0),
        gate=dict(reason='no teacher row: no verdict'),
        eval_noise={'hard mIoU': 1.0},
        rows=[dict(name='plain', role='student',
                   seeds={'0': {'hard mIoU': 10., 'IoU bicycle (hard)': 5.}},
                   eval_noise={'0': {'hard mIoU': 1.0}},
                   summary={'hard mIoU': dict(n=1, mean=10.)})],
        paired=[])
    text = markdown(study)
    assert '## Per class (IoU, mean over seeds)' in text
    assert '| plain | 1 | 5.0 |' in text
