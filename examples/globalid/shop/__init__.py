"""The Django app of the GlobalID guide's example."""
