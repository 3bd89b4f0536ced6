"""Benchmarks, load and fault tests (`make bench`, `make load`, `make faults`); never part of `make test`."""
