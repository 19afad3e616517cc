"""Smoke test of the reliability soak (`python -m kiosk.soak`): three rounds against a real hub
process, every fault kind possible, and the reconciliation must find nothing lost or doubled."""
from __future__ import annotations

import random
import sqlite3

import pytest

from kiosk.soak import FaultyConnection, run, table

pytestmark = pytest.mark.slow


def test_soak_three_rounds_reconcile(tmp_path):
    res = run(3, seed=7, folder=tmp_path, log=lambda m: None)
    t = res["totals"]
    assert t["rounds"] == 3 and t["created"] >= 1
    assert (t["lost"], t["duplicated"], t["unknown_at_hub"], t["pending"]) == (0, 0, 0, 0)
    assert t["integrity_terminal"] == t["integrity_hub"] == "ok"
    assert t["audit_local"] == t["audit_hub"]
    assert "| fault |" in table(res)


def test_faulty_connection_raises_sqlites_own_error():
    c = FaultyConnection(sqlite3.connect(":memory:"), random.Random(1), p=1.0, after=1)
    c.execute("SELECT 1")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        c.execute("SELECT 1")
    assert c.injected == 1
