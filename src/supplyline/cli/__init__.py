"""The supplyline command line."""
