"""The test processes freeze what collection built (tests/collector.py)."""

from __future__ import annotations

import gc


def test_what_collection_built_is_frozen_out_of_collections() -> None:
    # tests/collector.py froze the heap when collection finished: the modules and objects every
    # test imported are in the permanent generation, which no collection traverses.
    assert gc.get_freeze_count() > 10_000
    assert gc.isenabled(), "frozen, not switched off: cycles made by tests are still collected"
