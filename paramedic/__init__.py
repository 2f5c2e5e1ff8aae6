"""The composition root: the `paramedic` command line and the wiring of every layer.

tools <- agent <- graph <- server, evals <- paramedic. Only this package (and the tests) may
import the sandbox, and only here do settings, tools, reasoners, the graph, the server, the
eval harness and the sandbox meet: `cli/` (the commands), `sandbox_wiring` (aiming settings at a
sandbox), `eval_sandbox` and `eval_agent` (the sandbox and the real agent behind the eval
harness's seams), `studio` (the graph LangGraph Studio opens, see langgraph.json).
"""
