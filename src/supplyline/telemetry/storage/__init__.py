"""Where readings live: the single writer's group commit into columnar landing rows, the
compactor that folds them into per-device chunks, and retention's purge."""
