from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# Make the shared reference code (upstream_as_written.py) importable from the tests.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20260601)
