"""spconv's algorithm descriptions built through distill3d's fact table
are those spconv builds itself, and a new process reads the table instead
of generating the kernels again."""
import json
import os
import subprocess
import sys

import pytest

import distill3d  # noqa: F401  (imports spconv.algo through the table)
from distill3d.utils import spconv_cache

algocore = pytest.importorskip('spconv.algocore')
core = pytest.importorskip('spconv.core')


def _fields(desp) -> dict:
    return {
        name: str(getattr(desp, name))
        for name in dir(desp)
        if not name.startswith('_') and not callable(getattr(desp, name))
    }


def _describe(build, attr, real, params, table, kind):
    """The description ``build(params)`` makes when ``algocore.<attr>`` is
    the real generator and when it is the table (filled by that call)."""
    cached = spconv_cache.cached_generator(real, table, kind)
    keep = getattr(algocore, attr)
    try:
        setattr(algocore, attr, real)
        expected = _fields(build(params))
        setattr(algocore, attr, cached)
        build(params)  # a miss: generates and records the facts
        got = _fields(build(params))  # a hit: the facts only
    finally:
        setattr(algocore, attr, keep)
    return expected, got


def test_cached_descriptions_equal_spconvs_own(tmp_path):
    from cumm.conv.main import gen_gemm_kernels as gen_conv
    from cumm.gemm.main import gen_gemm_kernels as gen_gemm
    table = {}
    conv = core.ALL_IMPGEMM_PARAMS[::23]
    gemm = core.ALL_NATIVE_PARAMS[::11]
    assert len(conv) > 20 and len(gemm) > 5
    for params in conv:
        expected, got = _describe(algocore.get_conv_algo_desp_from_param,
                                  'gen_conv_kernels', gen_conv, params,
                                  table, 'conv')
        assert got == expected, str(params.__dict__)[:300]
        # the generated facts are what tells algorithms apart
        assert {'element_per_access_a', 'min_arch',
                'dynamic_mask'} <= set(got)
    for params in gemm:
        expected, got = _describe(algocore.get_gemm_algo_desp_from_param,
                                  'gen_gemm_kernels', gen_gemm, params,
                                  table, 'gemm')
        assert got == expected
    # one entry per distinct parameter set, and the table survives a file
    assert len(table) == len({spconv_cache.param_key(p) for p in conv}) + \
        len({spconv_cache.param_key(p) for p in gemm})
    path = str(tmp_path / 'facts.json')
    spconv_cache._save(path, table)
    assert spconv_cache._load(path) == json.loads(json.dumps(table))
    # a damaged file is ignored, not trusted
    with open(path, 'w') as f:
        f.write('{"conv:x": {"a": 1}}')
    assert spconv_cache._load(path) == {}


def test_keys_are_values_not_addresses():
    first, second = core.ALL_IMPGEMM_PARAMS[:2]
    key = spconv_cache.param_key(first)
    assert ' at 0x' not in key
    assert key == spconv_cache.param_key(first)
    assert key != spconv_cache.param_key(second)

    class Opaque:
        __slots__ = ()

    with pytest.raises(TypeError):
        spconv_cache.param_key(Opaque())


def test_a_new_process_reads_the_table_and_generates_nothing():
    # this process wrote (or read) the table when it imported distill3d
    stats = spconv_cache.STATS
    if not stats:
        pytest.skip('spconv.algo was imported before distill3d')
    assert stats['loaded'] + stats['added'] > 700
    code = ('import distill3d, json; '
            'from distill3d.utils.spconv_cache import STATS; '
            'from spconv import algocore; '
            'print(json.dumps(dict(STATS, cached=getattr('
            'algocore.gen_conv_kernels, "_distill3d_cached", False))))')
    out = subprocess.run([sys.executable, '-c', code], check=True,
                         capture_output=True, text=True, env=dict(
                             os.environ)).stdout.strip().splitlines()[-1]
    child = json.loads(out)
    assert child['cached'] and child['path'] == stats['path']
    assert child['added'] == 0 and child['loaded'] > 700


def test_the_switch_leaves_spconv_alone(monkeypatch):
    monkeypatch.setenv('DISTILL3D_NO_SPCONV_CACHE', '1')
    assert not spconv_cache.enable_spconv_algo_cache()


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    path = tmp_path / 'table' / 'facts.json'

    def full_disk(*args, **kwargs):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(spconv_cache.json, 'dump', full_disk)
    spconv_cache._save(str(path), {'k': {'a': 1}})  # no error raised
    assert list((tmp_path / 'table').iterdir()) == []
    monkeypatch.undo()
    spconv_cache._save(str(path), {'k': {'a': 1}})
    assert [p.name for p in (tmp_path / 'table').iterdir()] == ['facts.json']
