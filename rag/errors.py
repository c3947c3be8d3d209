"""Failures a user can act on, shared by the index, its vector store and everything that reads them."""
from __future__ import annotations


class IndexUnavailable(Exception):
    """No usable index (none built, damaged, or its Chroma server unreachable): the message says what to run."""
