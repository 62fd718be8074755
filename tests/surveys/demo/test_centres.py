from __future__ import annotations

import pytest

from surveys.demo.centres import DEMO_COUNTRIES, _allocate


@pytest.mark.parametrize("total", [10, 31, 50, 96, 1500])
def test_allocation_adds_up_and_never_hangs(total: int) -> None:
    weights = {code: 1.0 + index for index, code in enumerate(DEMO_COUNTRIES)}
    counts = _allocate(total, weights)
    assert sum(counts.values()) == total
    assert min(counts.values()) == min(3, total // len(weights))
