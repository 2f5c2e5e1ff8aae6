"""The offline rules reasoner: one rule per fault cause, over a typed view of the evidence.

Where things are:
- `reasoner.py`: `RulesReasoner`, which runs every rule and keeps the most confident finding;
- `catalogue.py`: the ordered list of rules, the one place a new cause is registered;
- `<cause>.py` (named after its `RootCause`: `oom.py`, `bad_image.py`, ... and `crash_loop.py`, the
  generic fallback): the signature of that cause and the fix it proposes;
- `context.py` (what a rule sees and concludes), `remedies.py` (every remediation the rules build),
  `logs.py`, `probes.py`, `scheduling.py` (what several causes share), `quantity.py`, `quips.py`;
- `evidence_view.py`, `readings.py`, `observations.py`, `status_text.py`: the evidence read through
  the typed contract of `tools/evidence/item_data.py`, with a fallback to the items' text.
"""

from agent.reasoners.rules.catalogue import CATALOGUE
from agent.reasoners.rules.context import Finding, Rule, RuleContext, RulesPolicy
from agent.reasoners.rules.reasoner import RulesReasoner

__all__ = ["CATALOGUE", "Finding", "Rule", "RuleContext", "RulesPolicy", "RulesReasoner"]
