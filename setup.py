from setuptools import find_packages, setup

setup(name='distill3d', version='0.1.0', packages=find_packages(include=['distill3d*']))
