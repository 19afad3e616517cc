"""The county hub: receives certifications from village terminals, serves roster, status and
templates to them. Imports kiosk.protocol and third-party libraries only (no engine, no store)."""
from .db import HubDB, HubError, open_hub

__all__ = ["HubDB", "HubError", "open_hub"]
