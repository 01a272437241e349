from .distiller3d import Distiller3D, load_model_cfg

__all__ = ['Distiller3D', 'load_model_cfg']
from .adversarial_distiller import AdversarialDistiller3D  # noqa: F401
