"""Ctrl-C while the ``kernelscope`` command starts up: one line and exit code 130, not a traceback.

``kernelscope/__init__.py`` imports this module first, because the package's imports (NumPy, the
command's modules) run before ``kernelscope.cli.main`` can catch anything, and a KeyboardInterrupt
there printed a traceback and killed the process with SIGINT. It acts only when this process *is*
the command (the ``kernelscope`` console script or ``python -m kernelscope``): imported as a library,
kernelscope leaves signal handlers alone. While ``main`` runs (``in_main``), Ctrl-C raises the usual
KeyboardInterrupt, which ``main`` reports itself (with what was saved). A SIGINT that arrives before
the interpreter has installed any handler ends the process as the signal's default action does
(the shell reports 130) and prints nothing.
"""

from __future__ import annotations

import os
import signal
import sys

EXIT_INTERRUPTED = 130
COMMAND_NAMES = ("kernelscope", "kernelscope.exe", "kernelscope-script.py")
_TAKES_VALUE = ("-X", "-W", "--check-hash-based-pycs")
in_main = False  # set by kernelscope.cli.main while it runs


def is_the_command(argv: list) -> bool:
    """Whether the interpreter command line ``argv`` (``sys.orig_argv``) runs the kernelscope command."""
    args = iter(argv[1:])
    for arg in args:
        if arg in _TAKES_VALUE:
            next(args, None)
        elif arg == "-m":
            return next(args, None) == "kernelscope"
        elif arg.startswith("-m"):
            return arg[2:] == "kernelscope"
        elif arg == "-" or arg.startswith("-c"):
            return False
        elif not arg.startswith("-"):
            return os.path.basename(arg) in COMMAND_NAMES
    return False


def _on_sigint(signum, frame) -> None:
    if in_main:
        raise KeyboardInterrupt
    sys.stderr.write("kernelscope: interrupted\n")
    raise SystemExit(EXIT_INTERRUPTED)


if is_the_command(getattr(sys, "orig_argv", [])) and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _on_sigint)
