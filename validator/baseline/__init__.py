"""Baselines as files: the format and its codec, consistency checks, migration, the versioned store, promotion
and provenance."""
