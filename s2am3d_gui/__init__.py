"""s2am3d-gui: the Polyscope click-to-segment viewer (state and controller are usable without a window)."""
