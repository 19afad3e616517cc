"""Array types the engine's signatures use (numpy's typing, one name per kind of array)."""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

# An 8-bit picture, H x W x 3 (RGB unless the name says BGR), or H x W grey.
Image = npt.NDArray[np.uint8]
# Floating-point data: landmarks (N x 3, float32), face embeddings (float32 or float64 by backend),
# cohorts, transforms.
Floats = npt.NDArray[np.floating[Any]]
