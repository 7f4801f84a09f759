"""Test-wide settings."""

import os

# Seeded results repeat bit for bit for a given number of batch-split workers (models/split.py);
# fix it so the numbers the tests and README.md check do not depend on the machine's core count.
os.environ.setdefault("KERNELSCOPE_NUM_WORKERS", "2")
