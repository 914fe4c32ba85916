"""``python -m supplyline`` runs the CLI; nothing happens at import time."""

from supplyline.cli.app import main

if __name__ == "__main__":
    main()
