"""Benchmarks run by ``supplyline bench``; timings are reported, never asserted in unit tests."""
