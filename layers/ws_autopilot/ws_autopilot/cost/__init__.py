"""The daily cost optimizer: billable hours, thresholds, decisions, conversions, the run and its report."""
