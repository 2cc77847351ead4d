"""Errors a user can act on.

Every error raised for bad input is a `WarmstartError` whose message says what went wrong
*and* how to fix it, so the stage entry points can print one line and exit non-zero.
"""

from __future__ import annotations


class WarmstartError(Exception):
    """Bad input or state that the user can fix; the message names the fix."""


class DataError(WarmstartError):
    """The dataset cannot be found, downloaded, verified, extracted or read."""


class VocabularyError(WarmstartError):
    """A vocabulary is empty, has duplicates, mixes bytes and str, or cannot be read."""


class RemapError(WarmstartError):
    """An embedding remap cannot be done safely (shapes, dtypes, overlap, values)."""


class ModelFileError(WarmstartError):
    """A saved model file cannot be loaded safely (e.g. it holds code that safe_mode refuses)."""


class RegistryError(WarmstartError):
    """A model source cannot be resolved, or what it holds fails verification."""


class ConfigError(WarmstartError):
    """The composed configuration is inconsistent."""


class TrackingError(WarmstartError):
    """The MLflow tracking server cannot be reached or refuses a request."""
