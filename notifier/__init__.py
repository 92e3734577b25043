"""Datadog notifier Lambda (contract 4): one event per archived object under `rejected/` or `errors/`."""
