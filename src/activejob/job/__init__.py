"""The Job and everything that declares, enqueues and runs it."""
