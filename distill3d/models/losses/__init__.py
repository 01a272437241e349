from .cwd import ChannelWiseDistillLoss
from .fitnets import FeatureMSELoss
from .logit_kd import KDLogitLoss

__all__ = ['ChannelWiseDistillLoss', 'FeatureMSELoss', 'KDLogitLoss']
