"""The monthly digest: the month that ended, read from the archived reports, sent as one message."""
