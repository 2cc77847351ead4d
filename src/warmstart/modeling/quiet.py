"""Import TensorFlow without its C++ start-up noise on a CPU machine.

TensorFlow prints CUDA probing and oneDNN notices from C++ before its logging is set up, so
`TF_CPP_MIN_LOG_LEVEL` cannot hide all of them: file descriptor 2 is pointed at /dev/null for
the import only. Python errors still surface (they are raised after stderr is restored), and
`WARMSTART_TF_LOGS=1` keeps everything, for debugging a device problem.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys


def import_tensorflow_quietly() -> None:
    """Import tensorflow and keras once, their C++ start-up lines silenced (unless asked)."""
    if "tensorflow" in sys.modules or os.environ.get("WARMSTART_TF_LOGS") == "1":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        importlib.import_module("tensorflow")
        importlib.import_module("keras")
        with contextlib.suppress(Exception):  # the CUDA probe runs on first device use
            importlib.import_module("tensorflow").config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    # Retracing notes when several models predict in one process (champion and challenger).
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
