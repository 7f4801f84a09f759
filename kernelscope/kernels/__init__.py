"""Pure NumPy forward/backward kernel pairs on NHWC arrays: arrays in, arrays out, no state."""
