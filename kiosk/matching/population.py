"""Population statistics a county computes from its own roster and ships to its terminals.

dlib embeddings are far from centred: the mean of many faces has a norm close to that of a
single face, so plain distances are dominated by what all faces share. Subtracting the mean of
the enrolled population and comparing directions (cosine) spreads faces out. A terminal whose own
roster is too small for cohort s-norm (< MIN_COHORT photos) can use the county's mean instead:
method "centred" in `Matcher`.

The file is small JSON (backend, dim, counts, mean vector; no individual template), computed by
`from_templates` over `Store.all_templates(backend)` at the county, and loaded with the
`population_stats_path` setting. Never computed from the project's test data.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.arrays import Floats

MIN_PEOPLE = 20  # fewer people than this do not give a usable population mean


from kiosk.matching.embedders import EmbedderError


class PopulationStatsError(EmbedderError):
    """The population statistics file cannot be used (missing, damaged, other backend, too few people)."""


@dataclass(frozen=True)
class PopulationStats:
    backend: str
    mean: Floats = field(compare=False)
    n_people: int
    n_templates: int

    def centre(self, v: Floats) -> Floats:
        u = np.asarray(v, dtype=np.float64) - self.mean
        n = np.linalg.norm(u, axis=-1, keepdims=True)
        centred: Floats = u / np.maximum(n, 1e-12)
        return centred

    def to_json(self) -> dict[str, Any]:
        return {"backend": self.backend, "dim": int(self.mean.size), "n_people": self.n_people,
                "n_templates": self.n_templates, "mean": [round(float(x), 8) for x in self.mean]}

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.to_json()), encoding="utf-8")
        return p


def from_templates(templates: dict[str, list[Floats]], backend: str) -> PopulationStats:
    """The population mean: the mean of each person's mean template (people with many photos do not
    weigh more). `templates`: resident id -> embeddings, e.g. `Store.all_templates(backend)`."""
    per_person = [np.mean(np.asarray(v, dtype=np.float64), axis=0) for v in templates.values() if len(v)]
    if len(per_person) < MIN_PEOPLE:
        raise PopulationStatsError("too_few_people", n=len(per_person), min=MIN_PEOPLE)
    return PopulationStats(backend, np.mean(per_person, axis=0), len(per_person),
                           sum(len(v) for v in templates.values()))


def load(path: str | Path, backend: str | None = None) -> PopulationStats:
    p = Path(path).expanduser()
    if not p.is_file():
        raise PopulationStatsError("stats_missing", path=p)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        mean = np.asarray(data["mean"], dtype=np.float64)
        stats = PopulationStats(str(data["backend"]), mean, int(data["n_people"]), int(data["n_templates"]))
    except (ValueError, KeyError, TypeError) as e:
        raise PopulationStatsError("stats_invalid", name=p.name) from e
    if mean.ndim != 1 or mean.size != int(data.get("dim", mean.size)) or not np.isfinite(mean).all():
        raise PopulationStatsError("stats_invalid", name=p.name)
    if backend is not None and stats.backend != backend:
        raise PopulationStatsError("stats_backend", found=stats.backend, backend=backend)
    return stats


def centred_template_distance(probe: Floats, template: list[Floats], stats: PopulationStats) -> float:
    """Mean over the template of the cosine distance between centred embeddings (0 = same direction)."""
    p = stats.centre(probe)
    t = stats.centre(np.asarray(template, dtype=np.float64).reshape(len(template), -1))
    return float(np.mean(1.0 - t @ p))
