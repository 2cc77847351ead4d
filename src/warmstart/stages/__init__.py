"""One module per entry point; each has `run(cfg, ...)` (in-process) and `main()` (Hydra app)."""
