from .cwd import ChannelWiseDistillLoss
from .fitnets import FeatureMSELoss
from .logit_kd import KDLogitLoss
from .point_distiller import (EdgeConvAdapter, PointDistillerLoss,
                              chunked_knn)

__all__ = [
    'ChannelWiseDistillLoss', 'EdgeConvAdapter', 'FeatureMSELoss',
    'KDLogitLoss', 'PointDistillerLoss', 'chunked_knn'
]
