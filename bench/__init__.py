"""Benchmarks: figures to read, never assertions (``make bench``)."""
