"""The contract: the typed IR every stage speaks (models, names, file I/O, overrides)."""
