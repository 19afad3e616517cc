"""Entry point of the PyInstaller bundle: the same `kiosk` command as `uv run kiosk`."""
import multiprocessing
import sys

from kiosk.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the app encodes faces in a spawned child process
    sys.exit(main())
