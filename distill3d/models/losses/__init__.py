from .cwd import ChannelWiseDistillLoss
from .fitnets import FeatureMSELoss
from .heatmap_kd import CenterHeatmapKDLoss
from .logit_kd import KDLogitLoss
from .masked_feature import TeacherMaskedFeatureLoss
from .m2skd import (InstanceAffinityLoss, M2SKDLogitLoss,
                    voxel_labels)
from .point_distiller import (EdgeConvAdapter, PointDistillerLoss,
                              chunked_knn)

__all__ = [
    'CenterHeatmapKDLoss', 'ChannelWiseDistillLoss', 'EdgeConvAdapter',
    'FeatureMSELoss',
    'InstanceAffinityLoss', 'KDLogitLoss', 'M2SKDLogitLoss',
    'PointDistillerLoss', 'TeacherMaskedFeatureLoss', 'chunked_knn',
    'voxel_labels'
]
from .fad import (FeatureAdversarialLoss,  # noqa: F401
                  FeatureDiscriminator)
