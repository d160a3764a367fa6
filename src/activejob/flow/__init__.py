"""Flow control, enforced by the store on every durable backend (DESIGN §8):
concurrency limits, unique jobs, rate limits, timeouts and cancellation.

One module per feature; ``activejob`` re-exports the public names.
"""
