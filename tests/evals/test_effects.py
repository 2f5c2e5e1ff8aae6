"""What actions really did: field changes, no-ops, directions (pure)."""

from __future__ import annotations

from evals.effects import CommitEffect, field_matches, goes, manifests_changes, reverted_shas, settle
from evals.outcome import ActionTaken, AgentRun, DetectedIncident, FieldChange, Investigation

WEB = "Deployment shop/web-api"
MEM = "spec.template.spec.containers[app].resources.limits.memory"


def _deploy(memory: str, replicas: int = 2) -> dict:
    return {
        "kind": "Deployment",
        "spec": {
            "replicas": replicas,
            "template": {
                "spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": memory}}}]}
            },
        },
    }


def test_changes_are_leaf_fields_with_list_items_by_name():
    changes = manifests_changes({WEB: _deploy("256Mi")}, {WEB: _deploy("48Mi")})
    assert changes == [FieldChange(resource=WEB, field=MEM, before="256Mi", after="48Mi")]
    assert manifests_changes({WEB: _deploy("1Gi")}, {WEB: _deploy("1Gi")}) == []
    gone = manifests_changes({WEB: _deploy("1Gi")}, {})
    assert {c.field for c in gone} >= {MEM, "spec.replicas"} and all(c.after is None for c in gone)


def test_directions():
    cut = FieldChange(resource=WEB, field=MEM, before="256Mi", after="200M")
    assert goes("decrease", cut) is True and goes("increase", cut) is False
    assert goes("decrease", FieldChange(resource=WEB, field=MEM, before="1Gi", after=None)) is False
    assert goes("decrease", FieldChange(resource=WEB, field=MEM, before="lots", after="1Gi")) is None
    assert goes("to_zero", FieldChange(resource=WEB, field="spec.replicas", before=2, after=0)) is True
    assert goes("remove", FieldChange(resource=WEB, field=MEM, before="1Gi", after=None)) is True
    moved = FieldChange(resource=WEB, field="image", before="ghcr.io/a/web:1.0", after="docker.io/x/web:1.0")
    assert goes("other_repository", moved) is True
    bumped = FieldChange(resource=WEB, field="image", before="ghcr.io/a/web:1.0", after="ghcr.io/a/web:1.1")
    assert goes("other_repository", bumped) is False
    assert field_matches("spec.template", MEM) and not field_matches("spec.repl", "spec.replicas")


def test_reverted_shas_follow_gits_wording():
    assert reverted_shas(["Revert x\n\nThis reverts commit abcdef1234567.", "no"]) == ("abcdef1234567",)


def _run(*actions: ActionTaken) -> AgentRun:
    inv = Investigation(incident=DetectedIncident(workload=WEB), actions=list(actions))
    return AgentRun(investigations=[inv])


def test_no_ops_are_told_apart_from_effective_actions():
    change = FieldChange(resource=WEB, field=MEM, before="48Mi", after="256Mi")
    effects = {
        "good": CommitEffect(sha="good", changes=(change,)),
        "empty": CommitEffect(sha="empty", changes=()),
        "old": CommitEffect(sha="old", changes=(change,), before_base=True),
        "revert": CommitEffect(sha="revert", changes=(change,), reverts=("good",)),
        "rerevert": CommitEffect(sha="rerevert", changes=(change,), reverts=("revert",)),
    }
    pr = dict(action="gitops_pr", resource=WEB, via="git")
    run = settle(
        _run(
            ActionTaken(**pr, commit="good"),
            ActionTaken(**pr, commit="good"),  # the same commit again
            ActionTaken(**pr, commit="empty"),
            ActionTaken(**pr, commit="old"),
            ActionTaken(**pr, commit=None),
            ActionTaken(action="revert_commit", resource=WEB, via="git", commit="rerevert"),
            ActionTaken(action="patch", resource=WEB, via="cluster", empty_diff=True),
            ActionTaken(action="restart", resource=WEB, via="cluster"),
            ActionTaken(**pr, commit="good", executed=False),
        ),
        effects.get,
    )
    actions = run.investigations[0].actions
    assert [a.noop for a in actions] == [False, True, True, True, True, True, True, False, False]
    assert actions[0].changes == [change] and actions[0].effective
    assert "earlier action" in actions[1].noop_reason and "empty diff" in actions[2].noop_reason
    assert "before the agent" in actions[3].noop_reason and "itself a revert" in actions[5].noop_reason
