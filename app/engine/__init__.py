"""The backend interface, the PyTorch and llama.cpp backends, device detection, the context budget."""
