"""tools/setup_env.sh's plan (DISTILL3D_SETUP_DRY_RUN=1): stack, device
detection and the mmcv build settings, with fake nvidia-smi / nvcc."""
import os
import os.path as osp
import subprocess

import pytest

from helpers import REPO

SCRIPT = osp.join(REPO, 'tools', 'setup_env.sh')


def _plan(tmp_path, *args, path_dirs=(), **env):
    full = dict(os.environ, DISTILL3D_SETUP_DRY_RUN='1',
                DISTILL3D_CACHE=str(tmp_path / 'cache'), **env)
    if 'TORCH_CUDA_ARCH_LIST' not in env:
        full.pop('TORCH_CUDA_ARCH_LIST', None)
    # only the fakes and the basic tools: no real nvidia-smi / nvcc
    full['PATH'] = os.pathsep.join(list(path_dirs) + ['/usr/bin', '/bin'])
    full['CUDA_HOME'] = str(tmp_path / 'no_cuda')
    proc = subprocess.run(['bash', SCRIPT, str(tmp_path / 'venv'), *args],
                          env=full, capture_output=True, text=True)
    return proc.returncode, dict(
        kv.split('=', 1) for kv in proc.stdout.split() if '=' in kv), \
        proc.stderr


def _fake_gpu_tools(tmp_path, caps=('8.6', '9.0')):
    bin_dir = tmp_path / 'fakebin'
    bin_dir.mkdir()
    smi = bin_dir / 'nvidia-smi'
    smi.write_text('#!/bin/sh\nif [ "$1" = "-L" ]; then echo "GPU 0: fake";'
                   ' exit 0; fi\nprintf "' + '\\n'.join(caps) + '\\n"\n')
    nvcc = bin_dir / 'nvcc'
    nvcc.write_text('#!/bin/sh\necho fake nvcc\n')
    for f in (smi, nvcc):
        f.chmod(0o755)
    return str(bin_dir)


def test_cpu_machine_plans_a_cpu_build(tmp_path):
    rc, plan, err = _plan(tmp_path)
    assert rc == 0, err
    assert plan['device'] == 'cpu' and plan['FORCE_CUDA'] == '0'
    assert plan['stack'] == 'pinned'
    assert plan['cache'] == str(tmp_path / 'cache')


def test_gpu_machine_plans_a_cuda_build_per_architecture(tmp_path):
    fake = _fake_gpu_tools(tmp_path)
    rc, plan, err = _plan(tmp_path, path_dirs=[fake])
    assert rc == 0, err
    assert plan['device'] == 'cuda' and plan['FORCE_CUDA'] == '1'
    assert plan['TORCH_CUDA_ARCH_LIST'] == '8.6;9.0'
    assert plan['cache'] == str(tmp_path / 'cache' / 'cuda-sm86-90')
    # forced back to CPU
    rc, plan, _ = _plan(tmp_path, path_dirs=[fake], DISTILL3D_DEVICE='cpu')
    assert plan['device'] == 'cpu'


def test_forced_cuda_needs_an_architecture(tmp_path):
    rc, _, err = _plan(tmp_path, DISTILL3D_DEVICE='cuda')
    assert rc == 2 and 'TORCH_CUDA_ARCH_LIST' in err
    rc, plan, err = _plan(tmp_path, 'compat', DISTILL3D_DEVICE='cuda',
                          TORCH_CUDA_ARCH_LIST='8.0',
                          DISTILL3D_TORCH_INDEX_URL='https://example/cu121')
    assert rc == 0, err
    assert plan['stack'] == 'compat' and plan['device'] == 'cuda'
    assert plan['cache'] == str(tmp_path / 'cache' / 'compat' / 'cuda-sm80')
    assert plan['torch_index'] == 'https://example/cu121'


@pytest.mark.parametrize('args,env', [(('x', 'nightly'), {}),
                                      ((), dict(DISTILL3D_DEVICE='tpu'))])
def test_bad_stack_or_device(tmp_path, args, env):
    rc, _, err = _plan(tmp_path, *args[1:], **env)
    assert rc == 2 and ('stack' in err or 'DISTILL3D_DEVICE' in err)
