"""Unused WorkSpaces: found during the daily run, reported, stopped or terminated as configured."""
