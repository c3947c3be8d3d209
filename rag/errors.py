"""Failures a user can act on, shared by the index, its vector store and everything that reads them."""
from __future__ import annotations


class IndexUnavailable(Exception):
    """No usable index (none built, damaged, or its Chroma server unreachable): the message says what to run."""


class UsageError(Exception):
    """A problem the user can fix (no index, bad settings, bad input): the CLI prints it and exits 2."""
