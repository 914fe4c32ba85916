"""The ``supplyline`` command line: serve, demo, db, admin, events, import, bench."""
