"""distill3d: knowledge distillation for mmdetection3d 1.x models.

``pip install .`` builds a wheel holding the ``distill3d`` package and its
ready configs under ``distill3d/.mim/configs`` (in the repository a link to
``configs/``), the place mmengine looks for ``distill3d::`` configs, as
mmdet3d ships its own. Runtime dependencies are declared as ranges of what
is tested (see README, "Install into your mmdet3d environment"); torch,
mmcv and spconv are left to the user's environment, whose CUDA build they
must match.
"""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'distill3d', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


setup(
    name='distill3d',
    version=version(),
    description='Knowledge distillation for mmdetection3d 1.x LiDAR models '
    '(PointDistiller, M2SKD, FAD, logit KD, FitNets, CWD)',
    long_description=readme(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['distill3d', 'distill3d.*']),
    package_data={'distill3d': ['.mim/model-index.yml',
                                '.mim/configs/*/*.py',
                                '.mim/configs/*/*/*.py']},
    include_package_data=False,
    zip_safe=False,
    install_requires=[
        'numpy>=1.22',
        'scipy>=1.8',
        'matplotlib>=3.5',
        'h5py>=3.0',
        'mmengine>=0.10.3,<1.0',
        'mmdet>=3.0.0,<3.4',
        'mmdet3d>=1.4.0,<1.5',
    ],
    extras_require={
        'tests': ['pytest', 'pytest-timeout', 'pytest-xdist'],
    },
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ])
