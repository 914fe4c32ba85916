"""From signed bytes to accepted readings: verify, decode (canonical or through a vendor
mapping), check metrics and ranges, drop duplicates by sequence number, hand to the writer."""
