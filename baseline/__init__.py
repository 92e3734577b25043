"""`python -m baseline`: the operator's commands for the notifier's baseline (docs/architecture.md)."""
