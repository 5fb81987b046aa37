"""Neural network modules of S2AM3D."""
from .decoder import ScaleAwareDecoder
from .encoder import PartEncoder
from .losses import contrastive_loss, mask_loss
from .model import S2AM3D

__all__ = ["PartEncoder", "ScaleAwareDecoder", "S2AM3D", "contrastive_loss", "mask_loss"]
