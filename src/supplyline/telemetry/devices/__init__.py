"""Who may send: device credentials (tokens and signing secrets) and the in-memory directory of
each tenant's devices and profiles that the ingest path resolves senders against."""
