"""The body of migration 0001 (the canonical model, the event log, access), by capability.

Split out of the revision file so that no module passes 500 lines; as frozen as the revision
itself: never edit it, a change to the schema is a new migration. The order matters: the core
tables first, then the registry, then logistics, which refers to the registry (and back down).
"""
