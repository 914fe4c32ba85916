"""Vendor payloads as data: versioned mappings (where a vendor puts each value, which unit and
timestamp format) compiled once into functions, and the built-in mappings shipped with us."""
