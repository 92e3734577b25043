"""Which rejected sources are internal: built-in private, shared and ULA ranges plus `INTERNAL_CIDRS`."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.networks import (
    BUILT_IN_INTERNAL_CIDRS,
    InternalCidrsError,
    InternalNetworks,
    parse_internal_cidrs,
)

BUILT_IN = InternalNetworks()
EXTRA = parse_internal_cidrs("203.0.113.0/24,2001:db8:42::/48")
WITH_EXTRA = InternalNetworks(EXTRA)


@pytest.mark.parametrize(("address", "internal"), [
    ("10.0.0.1", True), ("10.255.255.255", True), ("11.0.0.1", False),
    ("172.16.0.1", True), ("172.31.255.254", True), ("172.32.0.1", False), ("172.15.255.255", False),
    ("192.168.1.20", True), ("192.169.0.1", False),
    ("100.64.0.1", True), ("100.127.255.255", True), ("100.128.0.0", False), ("100.63.255.255", False),
    ("fd12:3456:789a::1", True), ("fc00::1", True), ("fe80::1", False), ("2001:db8::1", False),
    ("::ffff:10.1.2.3", True), ("::ffff:198.51.100.7", False),
    ("198.51.100.7", False), ("8.8.8.8", False),
])
def test_built_in_ranges(address, internal):
    assert BUILT_IN.contains(address) is internal


@pytest.mark.parametrize(("address", "internal"), [
    ("fd00::1%eth0", True), ("fc00::1%1", True), ("::ffff:10.1.2.3%eth0", True),
    ("2001:db8::1%eth0", False), ("fe80::1%eth0", False),
])
def test_a_zone_id_is_stripped_before_the_internal_test(address, internal):
    assert BUILT_IN.contains(address) is internal
    assert WITH_EXTRA.contains("2001:db8:42::1%en0")


@pytest.mark.parametrize("value", ["fd00::1%", "fd00::1%a%b", "10.0.0.1%eth0", "%eth0", "fd00::1%a/b"])
def test_a_malformed_zone_id_is_not_an_address(value):
    assert BUILT_IN.contains(value) is False


@pytest.mark.parametrize("value", [None, "-", "", "10.0.0.256", "10.0.0", "10.0.0.1\x00", "1", "ä.b.c.d",
                                   "10.0.0.1/8", 167772161, ["10.0.0.1"]])
def test_what_is_not_an_address_is_not_internal(value):
    assert BUILT_IN.contains(value) is False


def test_configured_cidrs_are_added_to_the_built_in_ones():
    assert WITH_EXTRA.contains("203.0.113.9") and not BUILT_IN.contains("203.0.113.9")
    assert WITH_EXTRA.contains("2001:db8:42:7::1") and not WITH_EXTRA.contains("2001:db8:43::1")
    assert WITH_EXTRA.contains("10.9.8.7")  # the built-in ranges stay
    assert [str(n) for n in WITH_EXTRA.networks] == [*BUILT_IN_INTERNAL_CIDRS, "203.0.113.0/24",
                                                     "2001:db8:42::/48"]


def test_cidr_list_parsing_ignores_blanks_and_spaces():
    assert [str(n) for n in parse_internal_cidrs(" 10.20.0.0/16 ,, 192.0.2.7 ,")] == ["10.20.0.0/16",
                                                                                      "192.0.2.7/32"]
    assert parse_internal_cidrs(None) == () and parse_internal_cidrs("") == ()


@pytest.mark.parametrize(("text", "message"), [
    ("10.20.0.0/16,office", r"INTERNAL_CIDRS entry 'office' is not a CIDR block"),
    ("10.1.2.3/16", r"'10\.1\.2\.3/16' is not a CIDR block: .*host bits set \(did you mean 10\.1\.0\.0/16"),
    ("10.0.0.0/33", r"'10\.0\.0\.0/33' is not a CIDR block"),
])
def test_a_bad_cidr_names_the_entry_and_the_variable(text, message):
    with pytest.raises(InternalCidrsError, match=message) as raised:
        parse_internal_cidrs(text)
    assert "internalCidrs" in str(raised.value)


def _reference(networks: InternalNetworks, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """The same question answered with the ipaddress module, the slow obvious way."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == n.version and address in n for n in networks.networks)


@given(st.ip_addresses())
def test_the_fast_test_agrees_with_the_ipaddress_module(address):
    for networks in (BUILT_IN, WITH_EXTRA):
        assert networks.contains(str(address)) is _reference(networks, address)
        assert networks.contains(address.exploded) is _reference(networks, address)


@given(st.ip_addresses(v=6), st.text(max_size=8))
def test_with_a_zone_id_the_fast_test_agrees_with_the_ipaddress_module(address, zone):
    scoped = f"{address}%{zone}"
    try:
        reference = ipaddress.IPv6Address(scoped)  # the module reads the zone as its scope id
    except ValueError:  # an empty zone, a second `%`, a `/`
        assert not BUILT_IN.contains(scoped) and not WITH_EXTRA.contains(scoped)
        return
    for networks in (BUILT_IN, WITH_EXTRA):
        assert networks.contains(scoped) is _reference(networks, reference)


@given(st.ip_addresses(v=4, network="100.64.0.0/10") | st.ip_addresses(v=6, network="fc00::/7")
       | st.ip_addresses(v=4, network="172.16.0.0/12"))
def test_every_address_of_the_built_in_ranges_is_internal(address):
    assert BUILT_IN.contains(str(address))


@pytest.mark.parametrize(("entry", "why"), [
    ("office", "'office' does not appear to be an IPv4 or IPv6 network"),
    ("10.1.2.3/16", "10.1.2.3/16 has host bits set (did you mean 10.1.0.0/16?)"),
    ("2001:db8::1/48", "2001:db8::1/48 has host bits set (did you mean 2001:db8::/48?)"),
])
def test_a_bad_cidr_message_reads_whole_and_suggests_a_fix_only_when_there_is_one(entry: str, why: str):
    with pytest.raises(InternalCidrsError) as raised:
        parse_internal_cidrs(f"10.20.0.0/16, {entry}")
    assert str(raised.value) == (
        f"INTERNAL_CIDRS entry {entry!r} is not a CIDR block: {why}; set INTERNAL_CIDRS (stack config "
        "internalCidrs) to comma-separated CIDRs such as 10.20.0.0/16,2001:db8:42::/48")


@pytest.mark.parametrize(("cidrs", "first_octets"), [
    ("", {10, 100, 172, 192}),
    ("203.0.113.0/24,2001:db8:42::/48", {10, 100, 172, 192, 203}),
    ("0.0.0.0/7,64.0.0.0/3", {0, 1, 10, 100, 172, 192, *range(64, 96)}),
])
def test_most_internet_addresses_are_ruled_out_by_their_first_octet_without_parsing(
        monkeypatch: pytest.MonkeyPatch, cidrs: str, first_octets: set[int]):
    """The fast path every new source of a batch takes: only first octets of internal ranges are parsed."""
    networks = InternalNetworks(parse_internal_cidrs(cidrs))
    parsed: list[str] = []
    real_inet_pton = socket.inet_pton

    def counting_inet_pton(family: int, address: str) -> bytes:
        parsed.append(address)
        return real_inet_pton(family, address)

    monkeypatch.setattr(socket, "inet_pton", counting_inet_pton)
    for octet in range(256):
        networks.contains(f"{octet}.0.0.1")
    assert {int(address.split(".")[0]) for address in parsed} == first_octets
