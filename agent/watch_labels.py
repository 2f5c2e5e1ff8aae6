"""The incident labels through which a ParamedicWatch's overrides reach the healing graph.

The watcher sets them from the ParamedicWatch object (which the cluster's RBAC guards); nothing
else may: the graph honours them only on incidents the watcher raised (see graph/overrides.py),
so an alert's labels, which anyone who can post to Alertmanager controls, cannot widen a mode.
"""

WATCH_LABEL = "paramedic.dev/watch"
MODE_LABEL = "paramedic.dev/mode"
LLM_PROVIDER_LABEL = "paramedic.dev/llm-provider"
LLM_MODEL_LABEL = "paramedic.dev/llm-model"
GIT_REPO_LABEL = "paramedic.dev/git-repo"
ACT_LABEL = "paramedic.dev/threshold-act"
ASK_LABEL = "paramedic.dev/threshold-ask"
