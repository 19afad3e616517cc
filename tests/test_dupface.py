"""The duplicate-face check at enrolment (kiosk.dupface): a face already enrolled for another resident
is flagged, on real photos of the shared face data (`KIOSK_TEST_DATA`), through the store.

Enrolment vectors here are dlib embeddings of the data's photos (the app and `kiosk enrol` give the
same kind of vectors from camera frames; test_dupface_cli runs the camera path).
"""
from __future__ import annotations

import csv
from datetime import date, timedelta

import numpy as np
import pytest

from kiosk.app.demo import make_id
from kiosk.config import Settings
from kiosk.dupface import DupFaceError, check, flagged, require_confirmation, save_enrolment
from kiosk.matching.duplicates import Gallery, GallerySet, resembling
from kiosk.matching.encoder import BACKEND_NAME
from kiosk.matching.scoring import Matcher
from kiosk.store import Store

CONSENT = dict(enrolled_by="协理员01", consent_read_by="协理员01")


def rid(i: int) -> str:
    return make_id("110105", date(1946, 1, 1) + timedelta(days=37 * i), f"{i % 900 + 100:03d}")


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "kiosk.db", tmp_path / "template.key") as s:
        yield s


def photos(images_dir, person: str) -> list:
    return sorted((images_dir / person).glob("*.jpg"), key=lambda p: int(p.stem))


def vecs(embeddings, paths) -> list[np.ndarray]:
    return [v for v in (embeddings.try_get(p) for p in paths) if v is not None]


def approve(store, eid: int) -> None:
    store.review_enrolment(eid, "approved", "审核员01")


def test_a_face_enrolled_under_one_resident_is_flagged_under_another(store, images_dir, embeddings):
    x, y, z, w = rid(1), rid(2), rid(3), rid(4)
    for i, who in enumerate((x, y, z, w)):
        store.upsert_resident(who, ["王建国", "李秀英", "张桂兰", "刘玉珍"][i], village="东村", categories=["pension"])
    a, b = photos(images_dir, "Hu_Jintao"), photos(images_dir, "Jiang_Zemin")
    settings = Settings()
    now = store.clock.utc_now()

    # person A under resident X, approved
    approve(store, save_enrolment(store, settings, x, vecs(embeddings, a[:3]), BACKEND_NAME, consent_at=now, **CONSENT))
    # A's other photos under resident Y: flagged as resembling X (within the 1:1 threshold)
    ey = store.get_enrolment(save_enrolment(store, settings, y, vecs(embeddings, a[3:]), BACKEND_NAME,
                                            consent_at=now, **CONSENT))
    [hit] = flagged(ey)
    assert hit["resident"] == x and hit["within"] and hit["source"] == "enrolled"
    assert hit["distance"] <= hit["threshold"] and hit["method"] == "raw"  # 1 other resident: no s-norm cohort
    audit = [e for e in store.audit_entries() if e["action"] == "enrolment_resembles_other"]
    assert len(audit) == 1 and audit[0]["details"]["others"][0]["resident"] != x  # masked, never in clear
    assert x[-4:] in audit[0]["details"]["others"][0]["resident"]
    submitted = [e for e in store.audit_entries() if e["action"] == "enrolment_submitted"]
    assert submitted[-1]["details"]["resembles_other"] == 1

    # person B (someone else) under Z: not flagged; X and the pending Y are compared (2 residents)
    found, compared = check(store, settings, z, vecs(embeddings, b[3:]), BACKEND_NAME)
    assert compared == 2 and not any(f["within"] for f in found)
    ez = save_enrolment(store, settings, z, vecs(embeddings, b[3:]), BACKEND_NAME, consent_at=now, **CONSENT)
    assert flagged(store.get_enrolment(ez)) == []
    # a pending enrolment counts too: B's other photos under W resemble the pending Z
    ew = store.get_enrolment(save_enrolment(store, settings, w, vecs(embeddings, b[:3]), BACKEND_NAME,
                                            consent_at=now, **CONSENT))
    assert [(h["resident"], h["source"]) for h in flagged(ew)] == [(z, "pending")]

    # approving a flagged one needs the reviewer's confirmation, which is kept and audited
    with pytest.raises(DupFaceError) as err:
        require_confirmation(ey, None, None)
    assert err.value.code == "confirmation_required" and "不是同一人" in err.value.message
    with pytest.raises(DupFaceError):
        require_confirmation(ey, "different_person", "  ")
    conf = require_confirmation(ey, "different_person", "checked_id_cards")
    assert conf == {"kind": "different_person", "reason": "已核对两人身份证"}
    assert require_confirmation(store.get_enrolment(ez), None, None) is None  # not flagged: nothing asked
    done = store.review_enrolment(ey["id"], "approved", "审核员01", confirmation=conf)
    assert done["resemble_confirmation"]["reason"] == "已核对两人身份证"
    assert done["resemble_confirmation"]["by"] == "审核员01"
    [approved] = [e for e in store.audit_entries() if e["action"] == "enrolment_approved" and e["details"]["enrolment"] == ey["id"]]
    assert approved["details"]["resemble_confirmation"]["kind"] == "different_person"


def test_re_enrolment_of_the_same_resident_is_not_a_duplicate(store, images_dir, embeddings):
    x = rid(7)
    store.upsert_resident(x, "王建国", village="东村", categories=["pension"])
    a = photos(images_dir, "Li_Peng")
    now = store.clock.utc_now()
    approve(store, save_enrolment(store, Settings(), x, vecs(embeddings, a[:3]), BACKEND_NAME, consent_at=now, **CONSENT))
    e = store.get_enrolment(save_enrolment(store, Settings(), x, vecs(embeddings, a[3:]), BACKEND_NAME,
                                           consent_at=now, **CONSENT))
    assert e["resembles"] == []


def _pairs(images_dir):
    with open(images_dir / "pairs.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_how_often_the_shipped_threshold_flags_strangers_and_finds_the_same_face(images_dir, embeddings, groups):
    """Every pair of the data's pairs.csv as (enrolled resident, new enrolment): `different` pairs
    flagged are false flags (a reviewer's extra check), `same` pairs not flagged are missed duplicates."""
    matcher = Matcher.from_settings(Settings(), BACKEND_NAME)
    counts = {"same": [0, 0], "different": [0, 0]}
    east = [0, 0]
    asian = tuple(g.rstrip("*") for g in groups["east_asian"])
    for p in _pairs(images_dir):
        va, vb = embeddings.try_get(images_dir / p["file_a"]), embeddings.try_get(images_dir / p["file_b"])
        if va is None or vb is None:
            continue
        hits = resembling([vb], Gallery([GallerySet(rid(1), [va])]), matcher)
        within = bool(hits and hits[0].within)
        counts[p["label"]][0] += within
        counts[p["label"]][1] += 1
        if p["label"] == "different" and all(p[k].split("/")[0].startswith(asian) for k in ("file_a", "file_b")):
            east[0] += within
            east[1] += 1
    (fs, ns), (ff, nf) = counts["same"], counts["different"]
    print(f"\nduplicate check at raw {matcher.raw_threshold}: same-person pairs flagged {fs}/{ns} ({fs / ns:.1%}); "
          f"stranger pairs falsely flagged {ff}/{nf} ({ff / nf:.2%}); East-Asian stranger pairs {east[0]}/{east[1]}")
    assert nf > 500 and ns > 500
    assert ff / nf <= 0.02  # the 1:1 operating point's FMR target
    assert fs / ns >= 0.7


def test_a_village_store_each_new_face_against_every_other_resident(images_dir, embeddings):
    """One resident per person of the data (their first photos enrolled), then each person's other
    photos enrolled under a new resident: s-norm against the roster as in 1:1 (cohort >= 20)."""
    matcher = Matcher.from_settings(Settings(), BACKEND_NAME)
    people = sorted(p.name for p in images_dir.iterdir() if p.is_dir())
    enrolled, held = {}, {}
    for i, person in enumerate(people):
        v = vecs(embeddings, photos(images_dir, person))
        if len(v) >= 2:
            k = max(1, len(v) // 2)
            enrolled[person], held[person] = (rid(i), v[:k]), v[k:]
    gallery_sets = [GallerySet(r, v) for r, v in enrolled.values()]
    found_own = false_flags = 0
    methods = set()
    for person, probe in held.items():
        hits = resembling(probe, Gallery(gallery_sets), matcher)
        methods |= {h.method for h in hits}
        own = enrolled[person][0]
        found_own += any(h.within and h.resident == own for h in hits)
        false_flags += sum(h.within and h.resident != own for h in hits)
    print(f"\nvillage of {len(enrolled)} residents ({'/'.join(sorted(methods))}): own face found "
          f"{found_own}/{len(held)}; new enrolments falsely flagged against someone else: {false_flags} "
          f"(of {len(held) * (len(enrolled) - 1)} stranger comparisons)")
    assert methods == {"snorm"}
    assert found_own / len(held) >= 0.7
    assert false_flags <= 0.02 * len(held) * (len(enrolled) - 1)


@pytest.mark.parametrize("residents", [5, 40])  # raw (cohort < MIN_COHORT embeddings) and s-norm
def test_the_1_to_n_check_decides_as_1_to_1_matching_would(residents):
    """Each resident's result equals Matcher.compare's for a probe claiming that resident with the
    rest of the roster as cohort (the calibrated point, not a library default)."""
    from kiosk.matching.scoring import cohort_from_templates

    rng = np.random.default_rng(residents)
    centres = rng.normal(size=(residents, 128))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True) * 1.6  # closer than random: near-misses happen
    sets = [GallerySet(rid(i), [c + rng.normal(scale=0.03, size=128) for _ in range(3)]) for i, c in enumerate(centres)]
    probe = [centres[2] + rng.normal(scale=0.03, size=128) for _ in range(6)]
    matcher = Matcher.from_settings(Settings(), BACKEND_NAME)
    hits = resembling(probe, Gallery(sets), matcher, keep_nearest=residents)
    assert len(hits) == residents and hits[0].resident == rid(2) and hits[0].within
    templates = {s.resident: s.vectors for s in sets}
    for h in hits:
        cohort = cohort_from_templates(templates, exclude=h.resident)
        one = matcher.compare(probe, templates[h.resident], cohort=cohort)
        assert h.within == one.match and h.distance == pytest.approx(one.distance, abs=1e-9)
        assert h.method == one.method == ("snorm" if residents > 7 else "raw")
        if h.score is not None:
            assert h.score == pytest.approx(one.score)
