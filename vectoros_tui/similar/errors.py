"""Why similar-deal search cannot run here; messages say what to do. Cheap to import."""

from __future__ import annotations


class SimilarUnavailableError(RuntimeError):
    """Base: search is off, for the reason in the message. The rest of the app works."""


class ModelUnavailableError(SimilarUnavailableError):
    """No embedding model could be loaded."""


class IndexUnavailableError(SimilarUnavailableError):
    """The vector index cannot be opened or used."""


class IndexLockedError(IndexUnavailableError):
    """Another process holds the embedded index folder."""
