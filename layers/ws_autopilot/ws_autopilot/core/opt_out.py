"""Opt-out tags: a tag whose key equals the opt-out key ignoring case and surrounding whitespace,
with any value. Each wing names its own key (Skip_Convert, Skip_Remediation, Skip_Terminate)."""

from __future__ import annotations

from collections.abc import Mapping


def find_opt_out_tag(tags: Mapping[str, str], key: str) -> tuple[str, str] | None:
    """The (key, value) of the tag whose key equals `key` ignoring case and surrounding
    whitespace, any value, or None."""
    wanted = key.strip().casefold()
    for tag_key, value in tags.items():
        if tag_key.strip().casefold() == wanted:
            return tag_key, value
    return None
