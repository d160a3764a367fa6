"""Fuzz ``activejob.execute`` with hostile payloads: whatever arrives (a valid
payload with any field replaced, dropped or added; arguments in any shape, the
reserved ``_aj_`` keys among them; any JSON at all), it either runs the job or
raises :class:`DeserializationError`, never anything else."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import activejob
from activejob import Job
from activejob.errors import DeserializationError

RAN: list[tuple[tuple[Any, ...], dict[str, Any]]] = []


class Sink(Job):
    """Takes anything: only the payload can fail, never the job's own signature."""

    queue_as = "fuzz"

    def perform(self, *args: Any, **kwargs: Any) -> None:
        RAN.append((args, kwargs))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON value."""

RESERVED = ["_aj_serialized", "_aj_globalid", "_aj_symbol_keys", "_aj_ruby2_keywords", "_aj_hash"]
argument_like = st.recursive(
    json_values,
    lambda inner: st.dictionaries(
        st.sampled_from(RESERVED) | st.text(max_size=8), inner, min_size=1, max_size=3
    ),
    max_leaves=10,
)
"""Argument values, with the codec's reserved keys (and names of serializers) in them."""

KEYS = list(Sink(1).serialize())


def payloads() -> st.SearchStrategy[Any]:
    valid = Sink(1, "x", k=2).serialize()

    @st.composite
    def mutated(draw: st.DrawFn) -> dict[str, Any]:
        payload = dict(valid)
        for key in draw(st.lists(st.sampled_from(KEYS), max_size=3, unique=True)):
            if draw(st.booleans()):
                payload.pop(key, None)
            else:
                payload[key] = draw(json_values)
        if draw(st.booleans()):
            payload["arguments"] = draw(st.lists(argument_like, max_size=3))
        if draw(st.booleans()):
            payload["kwargs"] = draw(
                st.dictionaries(st.text(max_size=8), argument_like, max_size=3)
            )
        return payload

    return mutated() | json_values


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_execute_runs_the_job_or_raises_deserialization_error(payload: Any) -> None:
    activejob.configure(adapter="test")
    wire = json.loads(json.dumps(payload))  # what a store hands back: JSON only
    RAN.clear()
    try:
        activejob.execute(wire)
    except DeserializationError:
        assert not RAN  # refused before the job's body
        return
    assert len(RAN) == 1
