"""Datadog notifier Lambda: one event per archived object under `rejected/` or `errors/`."""
