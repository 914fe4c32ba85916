"""supplyline: supply-chain IoT from the sensor reading to the business decision."""

__version__ = "0.1.0"
