"""Postern's resolver (src/dns) against a real DNS server on loopback.

BIND's named serves fixture zones (dnsserver.py); a config directory's
main.cf points dns_resolver_servers at it; the test program dnsq
(build/test-libexec) prints what dns_lookup(), dns_addr_to_name() and
dns_name_has_addr() return (spec smtpd.md 1 item 1, 9.1; checks 32-34
rely on the same statuses).
"""

import ipaddress
import os
import socket

import pytest

import postern
from dnsserver import DnsServer, dns_server  # noqa: F401 (fixture)

DNSQ = os.path.join(postern.BUILD, "test-libexec", "dnsq")


def _rev(addr):
    """The zone-relative PTR owner of addr within its /24 or /32 zone."""
    return ipaddress.ip_address(addr).reverse_pointer + "."


ZONES = {
    "example.test": """
www      A     192.0.2.1
www      AAAA  2001:db8::1
mx       MX    10 mail.example.test.
mx       MX    20 mail2.example.test.
nullmx   MX    0 .
txt      TXT   "hello " "world"
alias    CNAME alias2
alias2   CNAME www
outside  CNAME www.other.test.
loop1    CNAME loop2
loop2    CNAME loop1
host     A     192.0.2.10
liar     A     192.0.2.99
v6host   AAAA  2001:db8::10
""",
    "bl.example.test": """
10.2.0.192 A   127.0.0.2
10.2.0.192 TXT "listed"
spam.test  A   127.0.0.2
""",
    "2.0.192.in-addr.arpa": f"""
{_rev("192.0.2.10")} PTR host.example.test.
{_rev("192.0.2.11")} PTR liar.example.test.
""",
    "8.b.d.0.1.0.0.2.ip6.arpa": f"""
{_rev("2001:db8::10")} PTR v6host.example.test.
""",
}


@pytest.fixture(scope="module")
def server():
    with DnsServer(ZONES, broken=["fail.test"]) as s:
        yield s


@pytest.fixture
def conf(tmp_path, server):
    cd = postern.ConfigDir(tmp_path / "conf")
    cd.write_main_cf(f"dns_resolver_servers = {server.address}\n")
    return cd


def dnsq(cd, *args, timeout=30):
    """Run dnsq on cd; return (exit status, stdout lines)."""
    r = cd.run(DNSQ, *args, timeout=timeout)
    assert r.returncode in (0, 1), str(r)
    return r.returncode, r.stdout_lines


def test_a_record(conf):
    rc, out = dnsq(conf, "A", "www.example.test")
    assert rc == 0
    assert out == ["status: DNS_OK", "fqdn: www.example.test",
                   "A www.example.test 300 192.0.2.1"]


def test_aaaa_record(conf):
    assert dnsq(conf, "AAAA", "www.example.test")[1] == [
        "status: DNS_OK", "fqdn: www.example.test",
        "AAAA www.example.test 300 2001:db8::1"]


def test_a_and_aaaa_in_type_order(conf):
    assert dnsq(conf, "A,AAAA", "www.example.test")[1][2:] == [
        "A www.example.test 300 192.0.2.1",
        "AAAA www.example.test 300 2001:db8::1"]


def test_mx_records(conf):
    out = dnsq(conf, "MX", "mx.example.test")[1]
    assert out[0] == "status: DNS_OK"
    assert sorted(out[2:]) == ["MX mx.example.test 300 10 mail.example.test",
                               "MX mx.example.test 300 20 mail2.example.test"]


def test_null_mx(conf):
    rc, out = dnsq(conf, "MX", "nullmx.example.test")
    assert rc == 1
    assert out == ["status: DNS_NULLMX",
                   "why: Domain nullmx.example.test does not accept mail (nullMX)"]


def test_txt_strings_joined(conf):
    assert dnsq(conf, "TXT", "txt.example.test")[1][2:] == [
        'TXT txt.example.test 300 "hello world"']


def test_cname_chain_followed(conf):
    assert dnsq(conf, "A", "alias.example.test")[1] == [
        "status: DNS_OK", "fqdn: www.example.test",
        "A www.example.test 300 192.0.2.1"]


def test_cname_query_returns_cname(conf):
    assert dnsq(conf, "CNAME", "alias.example.test")[1][2:] == [
        "CNAME alias.example.test 300 alias2.example.test"]


def test_cname_out_of_zone_is_nodata(conf):
    # Authoritative-only server: the chain leaves its zones, no A record
    # for the final name in the answer.
    assert dnsq(conf, "A", "outside.example.test")[1][0] == "status: DNS_NOTFOUND"


def test_cname_loop_is_retry(conf):
    # named answers SERVFAIL (with the looping CNAMEs) and the lookup ends;
    # a NOERROR answer with a loop is DNS_INVAL (dns_parse_test.c).
    assert dnsq(conf, "A", "loop1.example.test")[1][0] == "status: DNS_RETRY"


def test_nxdomain_is_fail(conf):
    assert dnsq(conf, "A", "nx.example.test")[1] == [
        "status: DNS_FAIL",
        "why: Host or domain name not found. Name service error for "
        "name=nx.example.test type=A: Host not found"]


def test_nodata_is_notfound(conf):
    assert dnsq(conf, "MX", "www.example.test")[1] == [
        "status: DNS_NOTFOUND",
        "why: Host or domain name not found. Name service error for "
        "name=www.example.test type=MX: Host found but no data record of requested type"]


def test_servfail_is_retry(conf):
    assert dnsq(conf, "A", "x.fail.test")[1] == [
        "status: DNS_RETRY",
        "why: Host or domain name not found. Name service error for "
        "name=x.fail.test type=A: Host not found, try again"]


def test_a_or_aaaa_retry_wins(conf):
    assert dnsq(conf, "A,AAAA", "x.fail.test")[1][0] == "status: DNS_RETRY"


def test_malformed_name_is_inval(conf):
    assert dnsq(conf, "A", "a..b.test")[1] == [
        "status: DNS_INVAL",
        "why: Name service error for a..b.test: invalid host or domain name"]


def test_dnsbl_names(conf):
    rev = dnsq(conf, "REVERSE", "192.0.2.10")[1]
    assert rev == ["10.2.0.192"]
    assert dnsq(conf, "A", "10.2.0.192.bl.example.test")[1][2:] == [
        "A 10.2.0.192.bl.example.test 300 127.0.0.2"]
    assert dnsq(conf, "TXT", "10.2.0.192.bl.example.test")[1][2:] == [
        'TXT 10.2.0.192.bl.example.test 300 "listed"']
    assert dnsq(conf, "A", "spam.test.bl.example.test")[1][0] == "status: DNS_OK"
    assert dnsq(conf, "A", "11.2.0.192.bl.example.test")[1][0] == "status: DNS_FAIL"


def test_reverse_names(conf):
    assert dnsq(conf, "REVERSE", "2001:db8::10")[1] == [
        ipaddress.ip_address("2001:db8::10").reverse_pointer[:-len(".ip6.arpa")]]
    assert dnsq(conf, "REVERSE", "1.2.3")[1] == ["(malformed)"]


def test_ptr_and_forward_confirmation_ipv4(conf):
    assert dnsq(conf, "PTRNAME", "192.0.2.10")[1] == ["status: DNS_OK", "name: host.example.test"]
    assert dnsq(conf, "HASADDR", "host.example.test", "192.0.2.10")[1] == ["status: DNS_OK"]
    # The PTR name exists but does not point back.
    assert dnsq(conf, "PTRNAME", "192.0.2.11")[1] == ["status: DNS_OK", "name: liar.example.test"]
    assert dnsq(conf, "HASADDR", "liar.example.test", "192.0.2.11")[1] == ["status: DNS_FAIL"]
    assert dnsq(conf, "PTRNAME", "192.0.2.12")[1] == ["status: DNS_FAIL"]
    assert dnsq(conf, "HASADDR", "nx.example.test", "192.0.2.12")[1] == ["status: DNS_FAIL"]
    assert dnsq(conf, "HASADDR", "x.fail.test", "192.0.2.12")[1] == ["status: DNS_RETRY"]


def test_ptr_and_forward_confirmation_ipv6(conf):
    assert dnsq(conf, "PTRNAME", "2001:db8::10")[1] == ["status: DNS_OK", "name: v6host.example.test"]
    assert dnsq(conf, "HASADDR", "v6host.example.test", "2001:db8::10")[1] == ["status: DNS_OK"]
    assert dnsq(conf, "HASADDR", "v6host.example.test", "2001:db8::11")[1] == ["status: DNS_FAIL"]


def test_no_ad_bit_from_authoritative_server(conf):
    # An authoritative-only server does not set AD: nothing is dnssec_valid.
    assert dnsq(conf, "-s", "A", "www.example.test")[1][2:] == [
        "A www.example.test 300 192.0.2.1"]


def test_refused_outside_zones_is_retry(conf):
    assert dnsq(conf, "A", "www.elsewhere.test")[1][0] == "status: DNS_RETRY"


def test_closed_port_is_retry(tmp_path):
    cd = postern.ConfigDir(tmp_path / "conf")
    port = postern.free_port()
    cd.write_main_cf(f"dns_resolver_servers = 127.0.0.1:{port}\n")
    assert dnsq(cd, "A", "www.example.test", timeout=20)[1][0] == "status: DNS_RETRY"


def test_silent_server_is_retry_within_bound(tmp_path):
    # A socket that reads queries and never answers: dns_lookup must give
    # up on its own (the dnsq run is killed, and the test fails, after 20 s).
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        cd = postern.ConfigDir(tmp_path / "conf")
        cd.write_main_cf(f"dns_resolver_servers = 127.0.0.1:{port}\n")
        assert dnsq(cd, "A", "www.example.test", timeout=20)[1][0] == "status: DNS_RETRY"


def test_malformed_servers_value_warns(tmp_path, server):
    cd = postern.ConfigDir(tmp_path / "conf")
    cd.write_main_cf("dns_resolver_servers = not an address!\n")
    r = cd.run(DNSQ, "A", "www.example.test", timeout=30)
    assert "malformed dns_resolver_servers value" in r.stderr
