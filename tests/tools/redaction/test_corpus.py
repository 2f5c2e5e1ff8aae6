"""The redaction corpus (corpus_redact.yaml, corpus_keep.yaml): recall 100%, false positives < 2%.

Run with `-s` to see the figures; docs/security.md quotes them.
"""

from __future__ import annotations

import pytest

from tests.tools.redaction.corpus import MUST_KEEP, MUST_REDACT, load, score
from tools.redaction import redact, redact_data


def test_the_corpus_is_large_enough_and_ids_are_unique() -> None:
    cases = load(MUST_REDACT) + load(MUST_KEEP)
    assert len(cases) >= 150
    assert len({case.id for case in cases}) == len(cases)
    assert all(case.secrets for case in load(MUST_REDACT)), "a must-redact case names its secrets"


def test_recall_is_total_and_false_positives_are_rare() -> None:
    result = score()
    print("\n" + result.report())
    assert result.leaked == [], result.report()
    assert result.context_lost == [], result.report()
    assert result.false_positive_rate < 0.02, result.report()


@pytest.mark.parametrize("case", load(MUST_REDACT), ids=lambda case: case.id)
def test_redacting_twice_changes_nothing(case) -> None:
    if case.text is not None:
        once = redact(case.text)
        assert redact(once) == once
    else:
        once = redact_data(case.data)
        assert redact_data(once) == once
