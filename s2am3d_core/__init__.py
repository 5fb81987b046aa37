"""s2am3d core: scale-controllable part segmentation of 3D shapes."""
