"""The eval harness: fault scenarios, scorers and the runner."""
