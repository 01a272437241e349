"""Models of distill3d: distillers, recorders, adapters and KD losses."""
from .adapters import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .recorders import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
