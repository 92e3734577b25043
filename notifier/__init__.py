"""Datadog notifier Lambda: one event per object under `rejected/` or `errors/` (docs/architecture.md)."""
