"""Suite-wide settings: one torch intra-op thread.

On the 2 shared cores of CI, two intra-op threads made the decoder up to 50x slower than one
(the threads spin waiting for each other while other processes hold the cores).
"""
import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
