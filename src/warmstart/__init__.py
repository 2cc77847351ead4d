"""warmstart: keep a text model's trained embeddings across vocabulary changes."""

__version__ = "0.1.0"
