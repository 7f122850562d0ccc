"""Decode Stripe's form encoding (`a[b][0][c]=v`, `expand[]=x`) into nested dicts and lists.

The SDK flattens nested params into bracketed keys and always indexes arrays (`expand[0]`);
curl users write `expand[]`. Values stay strings, as on the wire: the endpoint that reads a
param decides whether it is an integer or a boolean, like Stripe's own schema does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_APPEND = ""
# Children of these keys are user data: `metadata[0]=x` is a key "0", never a list.
_FREE_FORM_KEYS = frozenset({"metadata"})


class FormDecodeError(ValueError):
    """A key that is not valid bracket syntax, or one key used both as a value and a hash."""

    def __init__(self, message: str, *, param: str) -> None:
        super().__init__(message)
        self.param = param


def parse_form(body: str) -> dict[str, Any]:
    """Decode an `application/x-www-form-urlencoded` body or query string."""
    return decode_pairs(parse_qsl(body, keep_blank_values=True, strict_parsing=False))


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        _insert(root, key, _split_key(key), value)
    result = _listify(root, parent=None)
    assert isinstance(result, dict)
    return result


def _split_key(key: str) -> list[str]:
    match = _KEY.match(key)
    if match is None:
        raise FormDecodeError(f"Invalid parameter name: {key}", param=key)
    return [match.group(1), *_SEGMENT.findall(match.group(2))]


def _insert(root: dict[str, Any], key: str, path: list[str], value: str) -> None:
    node = root
    for index, segment in enumerate(path):
        last = index == len(path) - 1
        name = str(_next_index(node)) if segment == _APPEND else segment
        if last:
            if isinstance(node.get(name), dict):
                raise FormDecodeError(f"Invalid hash: {key} is both a value and a hash", param=key)
            node[name] = value
            return
        child = node.setdefault(name, {})
        if not isinstance(child, dict):
            raise FormDecodeError(f"Invalid hash: {key} is both a value and a hash", param=key)
        node = child


def _next_index(node: dict[str, Any]) -> int:
    numeric = [int(k) for k in node if k.isdigit()]
    return max(numeric) + 1 if numeric else 0


def _listify(node: Any, *, parent: str | None) -> Any:
    """Dicts keyed 0..n-1 become lists, except under free-form keys such as metadata."""
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, parent=k) for k, v in node.items()}
    if parent in _FREE_FORM_KEYS or not converted:
        return converted
    if all(k.isdigit() for k in converted):
        indexes = sorted(int(k) for k in converted)
        if indexes == list(range(len(indexes))):
            return [converted[str(i)] for i in indexes]
    return converted
