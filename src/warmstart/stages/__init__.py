"""One module per entry point; each has `run(cfg, ...)` (in-process) and `main()` (Hydra app)."""

from warmstart.modeling.quiet import import_tensorflow_quietly

import_tensorflow_quietly()
