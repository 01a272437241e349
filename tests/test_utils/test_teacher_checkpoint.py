"""Model-zoo teachers: teacher_ckpt as an http:// URL (downloaded, then
read weights-only), and checkpoints from before mmdet3d 1.0 refused."""
import functools
import http.server
import os.path as osp
import threading

import pytest
import torch

from cls_helpers import tiny_model_dict

from distill3d.models import Distiller3D


class _Evil:
    """Unpickling this would create a file (code execution)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


@pytest.fixture
def served(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / 'www'``."""
    root = tmp_path / 'www'
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()


def _distiller(ckpt, **kwargs):
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet3d')
    return Distiller3D(student=tiny_model_dict(student=True),
                       teacher=tiny_model_dict(), teacher_ckpt=ckpt,
                       distill_losses={}, **kwargs)


def test_teacher_from_url(served, tmp_path, monkeypatch):
    root, url = served
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    torch.manual_seed(1)
    _distiller(None)  # sets the scope
    from mmdet3d.registry import MODELS
    teacher = MODELS.build(tiny_model_dict())
    state = {k: v.clone() for k, v in teacher.state_dict().items()}
    torch.save(dict(state_dict=state, meta=dict(mmdet3d_version='1.4.0')),
               root / 'teacher.pth')
    distiller = _distiller(f'{url}/teacher.pth')
    for k, v in distiller.teacher.state_dict().items():
        assert torch.equal(v, state[k]), k
    # downloaded once into torch hub's cache
    assert osp.isfile(tmp_path / 'torch_home' / 'hub' / 'checkpoints' /
                      'teacher.pth')

    # weights-only reading is kept for URLs: a pickle that would run code
    # is refused, and the code does not run
    marker = tmp_path / 'pwned'
    torch.save(dict(state_dict=state, meta=dict(x=_Evil(str(marker)))),
               root / 'evil.pth')
    with pytest.raises(RuntimeError, match='could not be read'):
        _distiller(f'{url}/evil.pth')
    assert not marker.exists()


def test_pre_refactor_checkpoint_is_refused(tmp_path):
    _distiller(None)  # sets the scope
    from mmdet3d.registry import MODELS
    teacher = MODELS.build(tiny_model_dict())
    path = str(tmp_path / 'old.pth')
    torch.save(dict(state_dict=teacher.state_dict(),
                    meta=dict(mmdet3d_version='0.17.1')), path)
    with pytest.raises(ValueError, match='0.17.1') as info:
        _distiller(path)
    assert 'coordinate-system refactor' in str(info.value)
    assert 'tools/model_converters' in str(info.value)
    # the user can insist
    _distiller(path, teacher_ckpt_allow_legacy=True)
    # a 1.x checkpoint (or one without the version) loads
    torch.save(dict(state_dict=teacher.state_dict(),
                    meta=dict(mmdet3d_version='1.0.0rc4')), path)
    _distiller(path)
