from .adversarial_ddp import AdversarialDistillerDDP

__all__ = ['AdversarialDistillerDDP']
