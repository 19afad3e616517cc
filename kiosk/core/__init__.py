"""The small stdlib-only core shared by the terminal, the protocol and the county hub.

Nothing here imports numpy, Qt, FastAPI or any other third-party package: the hub and the
terminal both import it, and import-linter checks that it stays that way.
"""
