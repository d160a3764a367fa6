"""Error texts quote at most a few hundred characters of an offending value: a 5 MB
class name must not become a 5 MB message, stored error or log line."""

from __future__ import annotations

import pytest

from activejob import DeserializationError, SerializationError, UnknownJobClassError
from activejob.arguments import serialize_arguments
from activejob.errors import MESSAGE_LIMIT, shorten
from activejob.job.core import JobCore
from activejob.storage.base import ErrorInfo
from activejob.storage.decode import load_json, load_object, payload_dict

HUGE = "x" * 5_000_000


def test_shorten_keeps_short_text_and_cuts_long_text_saying_how_long() -> None:
    assert shorten("short") == "short"
    cut = shorten(HUGE)
    assert cut == "x" * 200 + "… (5,000,000 characters)"
    assert shorten(HUGE, 10) == "x" * 10 + "… (5,000,000 characters)"


@pytest.mark.parametrize("cls", [DeserializationError, SerializationError, UnknownJobClassError])
def test_deserialization_and_serialization_errors_keep_a_short_message(cls: type) -> None:
    message = str(cls(f"bad value {HUGE}"))
    assert len(message) < MESSAGE_LIMIT + 40 and message.endswith("(5,000,010 characters)")
    assert str(cls("short")) == "short"


def test_an_unknown_class_of_5_mb_is_quoted_short() -> None:
    with pytest.raises(UnknownJobClassError) as caught:
        JobCore.deserialize({"version": 1, "job_class": HUGE})
    assert len(str(caught.value)) < 700
    assert "(5,000,002 characters)" in str(caught.value)


def test_a_serialization_error_quotes_a_huge_type_name_short() -> None:
    value = type("T" * 1_000_000, (), {})()
    with pytest.raises(SerializationError) as caught:
        serialize_arguments((value,), {})
    assert len(str(caught.value)) <= MESSAGE_LIMIT + 40


def test_the_stored_error_keeps_a_short_message_and_traceback() -> None:
    try:
        raise ValueError(HUGE)
    except ValueError as exc:
        info = ErrorInfo.from_exception(exc)
    assert info.exception_class == "builtins.ValueError"
    assert len(info.message) < MESSAGE_LIMIT + 40
    assert len(info.traceback) < 5000 and "test_error_texts.py" in info.traceback
    assert ErrorInfo.from_exception(ValueError("bad")).message == "bad"


def test_the_main_module_hint_and_the_import_hint() -> None:
    with pytest.raises(UnknownJobClassError, match="define the job in an importable module"):
        JobCore.deserialize({"version": 1, "job_class": "__main__.Script"})
    with pytest.raises(UnknownJobClassError, match=r"--import billing\.jobs"):
        JobCore.deserialize({"version": 1, "job_class": "billing.jobs.Invoice"})


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[" * 100_000, "nested too deeply"),
        ('{"a": ', "not valid JSON"),
        (b"\xff\xfe{", "not valid JSON"),
        (None, "not valid JSON"),
        ("1" * 5000, "not valid JSON"),  # more digits than int() converts
    ],
)
def test_stored_text_decodes_or_raises_deserialization_error(text: object, why: str) -> None:
    with pytest.raises(DeserializationError, match=why):
        load_json(text)
    if text is not None:
        assert set(payload_dict(text)) == {"unreadable_payload", "reason"}


def test_load_object_wants_an_object() -> None:
    assert load_object('{"a": 1}') == {"a": 1}
    with pytest.raises(DeserializationError, match="must be a JSON object, got list"):
        load_object("[1]")
    assert payload_dict("[1]")["reason"].endswith("must be a JSON object, got list")
    assert payload_dict(None) == {}
