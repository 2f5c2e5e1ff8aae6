"""A ParamedicWatch's per-target overrides of the mode and the confidence thresholds.

Pure: the configured mode and thresholds and an incident in, the ones that apply to that incident
out, with a line per override applied or refused. Overrides are honoured only on incidents the
watcher raised for a ParamedicWatch (trigger watcher and the watch label present); the labels of
an alert or a manual trigger are ignored, so untrusted input cannot change what Paramedic may do.
A malformed value is refused (and said so), never guessed at.
"""

from __future__ import annotations

from agent.config import Mode, Thresholds
from agent.domain import Incident, Trigger
from agent.watch_labels import ACT_LABEL, ASK_LABEL, MODE_LABEL, WATCH_LABEL


def _threshold(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


def effective_config(
    mode: Mode, thresholds: Thresholds, incident: Incident
) -> tuple[Mode, Thresholds, list[str]]:
    """The mode and thresholds for `incident`, and what was overridden (or refused) and why."""
    labels = incident.labels
    watch = labels.get(WATCH_LABEL)
    if not watch or incident.trigger is not Trigger.WATCHER:
        return mode, thresholds, []
    notes: list[str] = []
    if MODE_LABEL in labels:
        try:
            mode = Mode(labels[MODE_LABEL])
            notes.append(f"mode {mode.value} from ParamedicWatch {watch}")
        except ValueError:
            notes.append(f"ignored ParamedicWatch {watch} mode {labels[MODE_LABEL]!r}: not a mode")
    if ACT_LABEL in labels or ASK_LABEL in labels:
        act = _threshold(labels.get(ACT_LABEL, str(thresholds.act)))
        ask = _threshold(labels.get(ASK_LABEL, str(thresholds.ask)))
        if act is None or ask is None or ask > act:
            notes.append(f"ignored ParamedicWatch {watch} thresholds: need 0 <= ask <= act <= 1")
        else:
            thresholds = Thresholds(act=act, ask=ask)
            notes.append(f"thresholds act {act} / ask {ask} from ParamedicWatch {watch}")
    return mode, thresholds, notes
