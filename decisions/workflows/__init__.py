"""The workflow audit: the automation inventory (import), which workflows to retire (the engine's rules in
decisions/engine/workflows.py), the retire_workflow proposals and the Workflows page's reads."""
