from .distiller3d import (Distiller3D, load_model_cfg, split_teacher_inputs,
                          teacher_forward)

__all__ = [
    'Distiller3D', 'load_model_cfg', 'split_teacher_inputs', 'teacher_forward'
]
from .adversarial_distiller import AdversarialDistiller3D  # noqa: F401
