"""Header names: case-insensitive matching, compact forms (RFC 3261 section 7.3.3), canonical spelling."""

from __future__ import annotations


def canonical_name(name: str) -> str:
    """``v`` -> ``Via``, ``call-id`` -> ``Call-ID``; unknown names are title-cased."""
    raise NotImplementedError
