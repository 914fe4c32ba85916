"""Reading telemetry back: series (raw points or buckets) and latest values over both storage
tiers, and each device's health."""
