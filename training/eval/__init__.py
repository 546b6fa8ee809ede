"""Answer quality on fixed examples (format, valid JSON, identifier recall) and the side-by-side
report of base, adapter and adapter + retrieval."""
