"""The shared kernel: errors, the values every wing uses, the UTC calendar, strict settings parsers."""
