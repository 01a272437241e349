"""The package as a user installs it: a wheel with the ready configs, so a
config in any folder can inherit ``distill3d::`` configs."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import zipfile

import pytest

from helpers import REPO

USER_CFG = """_base_ = ['distill3d::_base_/distill/pointdistiller_pillars.py']
distiller = dict(distill_losses=dict(loss_kd_pointdistiller=dict(
    num_nodes=512)))
"""

PROBE = r"""
import json
import distill3d
from mmengine.config import Config
from mmengine.utils import get_installed_path
cfg = Config.fromfile('user_cfg.py')
term = cfg.distiller.distill_losses.loss_kd_pointdistiller
print(json.dumps(dict(
    module=distill3d.__file__, version=distill3d.__version__,
    installed=get_installed_path('distill3d'), type=term.type,
    num_nodes=term.num_nodes, weighting=term.weighting,
    runner_type=cfg.runner_type)))
"""


def _version() -> str:
    scope: dict = {}
    exec(open(osp.join(REPO, 'distill3d', 'version.py')).read(), scope)
    return scope['__version__']


def _probe(cwd, pythonpath=None):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('PYTHONPATH', None)
    if pythonpath:
        env['PYTHONPATH'] = pythonpath
    proc = subprocess.run([sys.executable, '-c', PROBE], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_repo_configs_inherit_as_distill3d_scope(tmp_path):
    """In the development install, distill3d::... reads configs/."""
    (tmp_path / 'user_cfg.py').write_text(USER_CFG)
    res = _probe(str(tmp_path))
    assert res['type'] == 'PointDistillerLoss' and res['num_nodes'] == 512
    assert res['weighting'] == 'power'  # from the base config
    assert res['version'] == _version()


@pytest.mark.slow
def test_wheel_ships_configs_and_version(tmp_path):
    whl_dir, site = tmp_path / 'whl', tmp_path / 'site'
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check', '-q']
    subprocess.run(pip + ['wheel', '--no-deps', '--no-build-isolation',
                          REPO, '-w', str(whl_dir)],
                   check=True, timeout=600, cwd=str(tmp_path))
    (wheel, ) = glob.glob(str(whl_dir / '*.whl'))
    assert osp.basename(wheel).startswith(f'distill3d-{_version()}-')
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.split('.mim/configs/', 1)[1] for n in names
               if '.mim/configs/' in n}
    in_repo = {osp.relpath(p, osp.join(REPO, 'configs'))
               for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                                  recursive=True)}
    assert shipped == in_repo
    assert not any(n.startswith(('tests/', 'projects/', 'tools/'))
                   for n in names)
    meta = next(n for n in names if n.endswith('METADATA'))
    requires = [line for line in zipfile.ZipFile(wheel).read(meta).decode()
                .splitlines() if line.startswith('Requires-Dist')]
    assert any('mmdet3d<1.5,>=1.4.0' in r or 'mmdet3d>=1.4.0,<1.5' in r
               for r in requires), requires

    subprocess.run(pip + ['install', '--no-deps', '--target', str(site),
                          wheel], check=True, timeout=600)
    user = tmp_path / 'elsewhere'
    user.mkdir()
    (user / 'user_cfg.py').write_text(USER_CFG)
    res = _probe(str(user), pythonpath=str(site))
    # the installed copy, not the repository, answered
    assert res['module'].startswith(str(site)), res
    assert res['installed'].startswith(str(site)), res
    assert res['type'] == 'PointDistillerLoss' and res['num_nodes'] == 512
    assert res['runner_type'] == 'Distill3DRunner'
    assert res['version'] == _version()
