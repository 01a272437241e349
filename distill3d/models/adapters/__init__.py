from .channel_adapter import ChannelAdapter

__all__ = ['ChannelAdapter']
