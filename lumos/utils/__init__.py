"""Small shared helpers: JSON-lines I/O, run metadata, paths."""
