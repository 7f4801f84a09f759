"""Pure NumPy forward/backward kernel pairs on NHWC arrays: arrays in, arrays out, no state."""

from .allocator import tune_malloc

tune_malloc()  # keep freed memory for the next training step: see kernels/allocator.py
