# Copyright (c) distill3d contributors. All rights reserved.
from .adversarial_optim_constructor import (AdversarialOptimWrapperConstructor,
                                            split_modules)

__all__ = ['AdversarialOptimWrapperConstructor', 'split_modules']
