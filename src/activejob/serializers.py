"""Teach the argument encoding new types.

    from decimal import Decimal
    from typing import Any

    from activejob.serializers import ObjectSerializer, register

    class Money:
        def __init__(self, amount: Decimal, currency: str) -> None:
            self.amount, self.currency = amount, currency

    @register
    class MoneySerializer(ObjectSerializer):
        klass = Money                       # matched with isinstance()

        def serialize(self, value: Money) -> Any:
            return [value.amount, value.currency]   # encoded again: the Decimal stays one

        def deserialize(self, data: Any) -> Money:
            amount, currency = data
            return Money(amount, currency)

The payload carries the serializer's ``name`` (default ``"module.QualName"`` of the
serializer class), so register it in the processes that enqueue *and* in the
workers. See ``docs/arguments.md``.
"""

from __future__ import annotations

from activejob.arguments.base import ObjectSerializer
from activejob.arguments.registry import register, unregister

__all__ = ["ObjectSerializer", "register", "unregister"]
