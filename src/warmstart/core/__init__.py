"""Pure: vocabularies and their diff, the remap plan, initializers (numpy, pandas only)."""
