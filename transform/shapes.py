"""The fast path's shape checks: the values of one field over a record's kept lines, checked at once.

`contracts/flowrule.py` is the rule; `transform/encoder.py`'s checked path applies it value by value.
The fast loop looks each kept line's shaped values up among the values already seen to fit
(`RememberedValues`, one set per field) and hands only lines with a new value to the checks here, which
take a whole column at once with C-level passes (a translation and a comparison, the C address parsers,
a set of the few distinct values of an enumeration) rather than a regular expression per value. Each
check is sound: True only when every value fits the rule, so both paths archive the same lines; False
when any value does not, or may not, and the record then takes the checked path, which says which line
and why. The inputs are what the fast path accepts: printable ASCII without `"` or `\\`, and no space
in a value.
"""

from __future__ import annotations

import re
import socket
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from itertools import compress, repeat
from operator import not_

from contracts.flowlog import NOT_APPLICABLE
from contracts.flowrule import ACCOUNT_ID, HEX_ID_DIGITS, Address, HexId, Shape, is_address

ValuesCheck = Callable[[Sequence[str]], bool]

_HEX_TO_H = str.maketrans("0123456789abcdef", "h" * 16)
_DIGIT_TO_D = str.maketrans("0123456789", "d" * 10)
_ACCOUNT_DIGITS = f" {'d' * 12} "
_NULL = f" {NOT_APPLICABLE} "
_INET4 = partial(socket.inet_pton, socket.AF_INET)
_INET6 = partial(socket.inet_pton, socket.AF_INET6)


def _spaced(values: Sequence[str]) -> str:
    """Each value between two spaces of its own, nulls removed: `" a  b "` (a value has no space)."""
    return (" " + "  ".join(values) + " ").replace(_NULL, "")


def _all_accepted(parse: Callable[[str], object], values: Iterable[str]) -> bool:
    """Whether a C parser accepts every value (one C-level pass; OSError or ValueError: some does not)."""
    try:
        deque(map(parse, values), 0)
    except (OSError, ValueError):
        return False
    return True


def hex_id_check(shape: HexId) -> ValuesCheck:
    """Every value is `-` or the prefix and 8 or 17 lowercase hex digits.

    A record's ids are one length as a rule (17 digits since 2018): one translation and comparison
    then clears them all; anything else is matched one by one with the shape's expression.
    """
    prefix = shape.prefix
    long_id = prefix.translate(_HEX_TO_H) + "h" * HEX_ID_DIGITS[-1]
    exact = re.compile(rf" (?!(?:{shape.pattern}|-)(?: |$))", re.ASCII)

    def check(values: Sequence[str]) -> bool:
        joined = " ".join(values)
        count = len(values)
        if joined.count(prefix) == count and joined.translate(_HEX_TO_H) == " ".join([long_id] * count):
            return True
        return exact.search(" " + joined) is None

    return check


def accounts_fit(values: Sequence[str]) -> bool:
    """Every value is `-`, `unknown` or 12 digits (a record's account is one as a rule)."""
    distinct = set(values)
    if len(distinct) == 1:
        [value] = distinct
        return value in ("unknown", NOT_APPLICABLE) or (len(value) == 12 and value.isdigit())
    rest = _spaced(list(distinct)).replace(" unknown ", "").translate(_DIGIT_TO_D)
    return not rest.replace(_ACCOUNT_DIGITS, "")


def addresses_fit(values: Sequence[str]) -> bool:
    """Every value is `-` or an IPv4 or IPv6 address (no zone id).

    The C parsers (`inet_pton`) accept what `is_address` accepts and no more (tested against each other
    in tests/test_transform_shapes.py); a value they refuse is judged by `is_address` itself.
    """
    if _all_accepted(_INET4, values):
        return True
    colons = list(map(str.__contains__, values, repeat(":")))
    ipv4 = list(compress(values, map(not_, colons)))
    ipv6 = set(compress(values, colons))
    ipv4_fit = _all_accepted(_INET4, ipv4) or all(v == NOT_APPLICABLE or is_address(v) for v in set(ipv4))
    return ipv4_fit and (_all_accepted(_INET6, ipv6) or all(map(is_address, ipv6)))


def shaped_fit(values: Sequence[str], shape: Shape) -> bool:
    """Every distinct value is `-` or matches `shape` (few distinct values per record: enumerations)."""
    distinct = set(values)
    distinct.discard(NOT_APPLICABLE)
    return all(map(shape.matches, distinct))


# Values remembered per field before the memory starts afresh (a few MB at most per field).
KNOWN_VALUES_LIMIT = 100_000


class RememberedValues:
    """One field's whole-record check, remembering the values already seen to fit.

    The fast loop tests each kept value against `known` (one set lookup) and hands only the lines with
    a value it has not seen to `fits`. Checking an address costs about a microsecond even in C, but the
    values of a VPC's rejected flows recur from batch to batch (its account, interfaces, VPC, subnets,
    Region and zones, its own addresses, the same scanners), so most records need no check at all.
    """

    __slots__ = ("check", "known")

    def __init__(self, check: ValuesCheck) -> None:
        self.check = check
        self.known: set[str] = set()

    def fits(self, values: Sequence[str]) -> bool:
        known = self.known
        if known.issuperset(values):
            return True
        new = set(values).difference(known)
        if not new:
            return True
        if not self.check(list(new)):
            return False
        if len(known) + len(new) > KNOWN_VALUES_LIMIT:
            known.clear()  # cleared, never replaced: the fast loop holds this very set
        known.update(new)
        return True


def values_check(shape: Shape) -> ValuesCheck:
    """The whole-record check for one field's shape."""
    if isinstance(shape, HexId):
        return hex_id_check(shape)
    if isinstance(shape, Address):
        return addresses_fit
    if shape is ACCOUNT_ID:
        return accounts_fit
    return lambda values: shaped_fit(values, shape)
