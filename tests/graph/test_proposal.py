"""A reasoner's proposal put in the policy's vocabulary: aliases renamed, context kept as text."""

from __future__ import annotations

from agent.domain import ActionType, ProposedRemediation
from graph.proposal_vocabulary import canonical


def test_aliases_are_renamed_and_context_folds_into_the_description() -> None:
    proposal = ProposedRemediation(
        action=ActionType.REVERT_COMMIT,
        parameters={"sha": "a1b2c3", "field": "image", "old": "web:1", "description": "bad tag"},
    )
    fixed, changes = canonical(proposal)
    assert fixed.parameters == {"commit": "a1b2c3", "description": "bad tag; field=image; old=web:1"}
    assert changes == [
        "parameter 'sha' renamed 'commit'",
        "parameter 'field' moved into the description",
        "parameter 'old' moved into the description",
    ]
    assert proposal.parameters["sha"] == "a1b2c3", "the original proposal is not changed"


def test_a_canonical_proposal_comes_back_as_it_was() -> None:
    proposal = ProposedRemediation(action=ActionType.ROLLBACK, parameters={"revision": 3, "reason": "x"})
    fixed, changes = canonical(proposal)
    assert fixed is proposal and changes == []


def test_an_alias_does_not_overwrite_the_canonical_name() -> None:
    proposal = ProposedRemediation(action=ActionType.ROLLBACK, parameters={"revision": 2, "to_revision": 5})
    fixed, _ = canonical(proposal)
    assert fixed.parameters == {"revision": 2, "description": "to_revision=5"}


def test_parameters_another_action_takes_are_not_let_through() -> None:
    proposal = ProposedRemediation(action=ActionType.RESTART, parameters={"replicas": 0})
    fixed, _ = canonical(proposal)
    assert fixed.parameters == {"description": "replicas=0"}
