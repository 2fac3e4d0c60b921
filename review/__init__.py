"""review: a reproducible pipeline for structured literature reviews and evidence synthesis."""

__version__ = "0.3.0"
