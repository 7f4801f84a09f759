"""Training progress: a tqdm bar in a terminal or notebook, else one line per epoch."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress", "format_logs"]


def format_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in logs.items())


def _interactive() -> bool:
    if "ipykernel" in sys.modules:
        return True
    stream = sys.stdout
    return bool(getattr(stream, "isatty", None) and stream.isatty())


class Progress:
    """``verbose``: 0 silent, 1 bar (tqdm when installed and interactive, else a line), 2 one line per epoch."""

    def __init__(self, verbose, epochs: int, steps: int):
        if verbose == "auto":
            verbose = 1
        if verbose not in (0, 1, 2, True, False):
            raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}.")
        self.verbose = int(verbose)
        self.epochs, self.steps = epochs, steps
        self._tqdm = None
        if self.verbose == 1 and _interactive():
            try:
                from tqdm.auto import tqdm
                self._tqdm = tqdm
            except ImportError:  # the progress extra is optional: fall back to lines
                self._tqdm = None
        self._bar = None
        self._start = 0.0

    def epoch_begin(self, epoch: int) -> None:
        self._start = time.perf_counter()
        if self._tqdm is not None:
            self._bar = self._tqdm(total=self.steps, desc=f"Epoch {epoch + 1}/{self.epochs}", unit="step",
                                   leave=True, dynamic_ncols=True)

    def batch_end(self, logs: dict) -> None:
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)

    def epoch_end(self, epoch: int, logs: dict) -> None:
        elapsed = time.perf_counter() - self._start
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
            self._bar.close()
            self._bar = None
        elif self.verbose:
            print(f"Epoch {epoch + 1}/{self.epochs} - {elapsed:.1f}s - {format_logs(logs)}", flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
