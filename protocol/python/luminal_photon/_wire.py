"""The worker protocol's frames and JSON (protocol/PROTOCOL.md sections 1 and 2): its constants,
the strict reading of a frame's JSON text, and the settings the host passes in the environment."""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

SUPPORTED_PROTOCOLS = (1,)
RUNTIME = "luminal-python/1"
FEATURES = ("cancel", "deadline", "host_calls", "streams")   # optional protocol features this runtime implements
DEFAULT_FRAME_CAP = 16 * 1024 * 1024
MAX_DEPTH = 512                       # deepest array/object nesting, top-level object = 1
MAX_ID = 2**53 - 1
IN_FD, OUT_FD = 3, 4
EXIT_PROTOCOL = 70                    # EX_SOFTWARE: the host broke the protocol
ERROR_CODES = frozenset({"unknown_photon", "unknown_method", "invalid_params",
                         "photon_error", "unsupported", "invalid_state", "cancelled",
                         "deadline_exceeded", "unknown_function", "not_allowed", "call_cycle",
                         "chain_too_deep", "overloaded", "unavailable", "host_error"})
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONG_DIGITS = re.compile(r"[0-9]{309}")  # an integer this long is beyond double range


class _BadFrame(Exception):
    """The host sent something the protocol forbids; the worker exits with status 70."""


def _check_tree(value: Any, numbers: bool = False) -> None:
    """Reject nesting deeper than MAX_DEPTH (this also ends cycles), non-string keys and,
    with numbers=True, integers beyond double range (a peer could not decode them)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"JSON nesting deeper than {MAX_DEPTH}")
        if isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                raise TypeError("JSON object keys must be strings")
            item = item.values()
        for child in item:
            if isinstance(child, (dict, list, tuple)):
                stack.append((child, depth + 1))
            elif numbers and isinstance(child, int):
                try:
                    float(child)
                except OverflowError:
                    raise ValueError(f"integer {str(child)[:20]}... is beyond double range") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key in object")
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _parse_float(token: str) -> float:
    value = float(token)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {token[:40]} is out of double range")
    return value


def _parse_int(token: str) -> int | float:
    """Integer tokens that fit a signed 64-bit integer stay exact; others are doubles."""
    if len(token) < 19:                              # fewer digits than 2^63 has: it fits
        return int(token)
    value = int(token)
    return value if -2**63 <= value < 2**63 else _parse_float(token)


def _pairs(value: Any) -> int:
    """How many members the objects in a decoded value have together."""
    count, stack = 0, [value] if type(value) is dict or type(value) is list else []
    while stack:
        item = stack.pop()
        if type(item) is dict:
            count += len(item)
            item = item.values()
        for child in item:
            if type(child) is dict or type(child) is list:
                stack.append(child)
    return count


def _loads(text: str) -> Any:
    """The JSON value text holds, held to the protocol's rules (section 1): no duplicate key,
    nesting at most MAX_DEPTH, numbers as the protocol reads them; ValueError or RecursionError
    if it breaks one. Objects are decoded by the C decoder as they come; a duplicate key shows
    as fewer members than the text has colons, and only then (or when a string holds a colon)
    is the text decoded again, one object at a time, to tell."""
    value = _DECODER.decode(text)
    if text.count("{") + text.count("[") > MAX_DEPTH:
        _check_tree(value)
    if _pairs(value) != text.count(":"):
        value = _PAIRS_DECODER.decode(text)
    return value


# One encoder and the decoders for every frame: json.dumps and json.loads with options build a
# new one (and the decoder its scanner) at each call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_int, parse_float=_parse_float)
_PAIRS_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_reject_constant,
                                  parse_int=_parse_int, parse_float=_parse_float)


def frame_cap(text: str | None) -> int:
    """The frame cap for a LUMINAL_FRAME_CAP value (PROTOCOL.md section 1): the value when it is
    only ASCII digits and from 2 to 2^32-1; otherwise (absent, empty, a sign, spaces, any other
    character, 0, 1, above 2^32-1) the default, 16777216."""
    if text is None or not re.fullmatch(r"[0-9]+", text, re.ASCII):
        return DEFAULT_FRAME_CAP
    digits = text.lstrip("0")
    if len(digits) > 10:                             # also keeps int() within its digit limit
        return DEFAULT_FRAME_CAP
    value = int(digits or "0")
    return value if 2 <= value <= 2**32 - 1 else DEFAULT_FRAME_CAP


def protocol_versions(text: str | None) -> list[int]:
    """The versions a LUMINAL_PROTOCOL value lists (PROTOCOL.md section 1): each comma-separated
    element of one to nine ASCII digits; other elements are ignored. Empty when none is left."""
    return [int(p) for p in (text or "").split(",") if re.fullmatch(r"[0-9]{1,9}", p, re.ASCII)]
