"""Templates that age with the person: a strong pass adds its probe to the resident's templates
(bounded, oldest auto-added dropped, enrolled ones kept, audited, off by a switch), through the real
certification pipeline (recorded clip, real encoder, real store)."""
from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest

from kiosk.config import Settings
from kiosk.core.clock import Clock
from kiosk.matching.ageing import is_strong
from kiosk.matching.encoder import BACKEND_NAME
from kiosk.matching.scoring import Matcher, MatchResult
from kiosk.service import CertificationService
from kiosk.store import ageing
from test_service import CLOCK, WANG, run, store  # noqa: F401  (fixture)


def _audit(store, action):
    return [json.loads(r["details"]) for r in store.db.query("SELECT details FROM audit_log WHERE action = ?", [action])]


def _service(store, photo_encoder, **settings):
    return CertificationService(store, Settings(attempts_per_day=5, **settings), photo_encoder.encoder, clock=CLOCK,
                                device_id="test-kiosk")


@pytest.mark.data
@pytest.mark.slow
def test_a_strong_pass_adds_its_probe_and_the_next_session_uses_it(store, photo_encoder, clips, videos_dir):
    service = _service(store, photo_encoder)
    enrolled = store.templates_for(WANG, BACKEND_NAME)
    attempt = service.begin(WANG, None, actions=["blink", "turn_left"])
    assert len(attempt.session.template) == 1
    run(attempt, clips, videos_dir)
    outcome = service.record(attempt)
    assert outcome.verdict == "pass"
    added = ageing.vectors(store, WANG, BACKEND_NAME)
    assert len(added) == 1 and np.allclose(added[0], attempt.session.probe_vector)
    assert [np.allclose(a, b) for a, b in zip(store.templates_for(WANG, BACKEND_NAME), enrolled)] == [True]
    (entry,) = _audit(store, "template_auto_added")
    assert entry["resident"] != WANG and entry["resident"].endswith(WANG[-4:]) and entry["attempt"] == outcome.attempt_uuid
    assert WANG not in json.dumps(entry)
    a_year_later = CertificationService(store, Settings(), photo_encoder.encoder, device_id="test-kiosk",
                                        clock=Clock.fixed(datetime(2027, 11, 23, 10, 0), "Asia/Shanghai"))
    nxt = a_year_later.begin(WANG, None, actions=["blink"])  # the next cycle: enrolled + aged
    assert len(nxt.session.template) == 2
    nxt.session.abort("cancelled")


@pytest.mark.data
@pytest.mark.slow
def test_switched_off_a_pass_adds_nothing(store, photo_encoder, clips, videos_dir):
    service = _service(store, photo_encoder, template_ageing=False)
    attempt = service.begin(WANG, None, actions=["blink", "turn_left"])
    run(attempt, clips, videos_dir)
    assert service.record(attempt).verdict == "pass"
    assert ageing.vectors(store, WANG, BACKEND_NAME) == [] and not _audit(store, "template_auto_added")


@pytest.mark.data
def test_bounded_oldest_auto_added_drops_enrolled_stay_and_reenrolment_starts_afresh(store):
    enrolled = store.templates_for(WANG, BACKEND_NAME)
    rng = np.random.default_rng(7)
    probes = [rng.normal(size=128) for _ in range(4)]
    for i, p in enumerate(probes):
        ageing.add(store, WANG, p, BACKEND_NAME, attempt_uuid=f"u{i}", score=-6.0, bound=2)
    kept = ageing.vectors(store, WANG, BACKEND_NAME)
    assert len(kept) == 2 and np.allclose(kept[0], probes[2]) and np.allclose(kept[1], probes[3])
    assert len(store.templates_for(WANG, BACKEND_NAME)) == len(enrolled)
    assert [e["dropped"] for e in _audit(store, "template_auto_added")] == [0, 0, 1, 1]
    # new county templates (or a re-enrolment): what aged from the old ones no longer counts
    store.add_template(WANG, rng.normal(size=128), BACKEND_NAME, source="county")
    assert ageing.vectors(store, WANG, BACKEND_NAME) == []
    ageing.add(store, WANG, probes[0], BACKEND_NAME, attempt_uuid="u9", score=-6.0, bound=2)
    assert len(ageing.vectors(store, WANG, BACKEND_NAME)) == 1
    assert store.db.execute("SELECT count(*) FROM auto_templates").fetchone()[0] == 1  # the stale ones purged
    store.delete_templates(WANG, BACKEND_NAME)  # the person asks for deletion: the aged ones go too
    assert store.db.execute("SELECT count(*) FROM auto_templates").fetchone()[0] == 0


def test_only_a_clear_match_is_strong():
    m = Matcher()
    snorm = dict(distance=0.3, threshold=m.snorm_threshold, method="snorm")
    assert is_strong(MatchResult(True, score=m.snorm_threshold - 1.5, **snorm), m, 1.0)
    assert not is_strong(MatchResult(True, score=m.snorm_threshold - 0.5, **snorm), m, 1.0)  # barely inside
    assert not is_strong(MatchResult(False, score=m.snorm_threshold - 3, decision="roster_ambiguous", **snorm), m, 1.0)
    assert not is_strong(MatchResult(False, score=m.snorm_threshold + 1, **snorm), m, 0.0)
    assert not is_strong(None, m)
    raw = dict(threshold=m.raw_threshold, method="raw")
    assert is_strong(MatchResult(True, distance=m.raw_threshold - 0.05, **raw), m, 1.0)
    assert not is_strong(MatchResult(True, distance=m.raw_threshold - 0.01, **raw), m, 1.0)


def test_settings_range_of_the_switch(tmp_path):
    from kiosk.config import SettingsError

    (tmp_path / "kiosk.toml").write_text("template_ageing_bound = 0\n", encoding="utf-8")
    with pytest.raises(SettingsError):
        Settings.load(tmp_path / "kiosk.toml")
