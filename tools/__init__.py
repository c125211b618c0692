"""Developer tools: the demo, the benchmarks, `make invoke` and the local deployment they share."""
