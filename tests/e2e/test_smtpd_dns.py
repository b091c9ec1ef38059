"""End-to-end tests of the SMTP server's DNS-based restrictions against a
real DNS server on loopback (smtpd.md §7.5, §9.1; acceptance checks 32-34).

BIND serves the fixture zones (dnsserver.py); the baseline instance of
test_smtpd_access.py points dns_resolver_servers at it. Zones listed as
broken answer SERVFAIL for every name in them.
"""
import pytest

from agentmx import AgentMx
from dnsserver import dns_server  # noqa: F401 (fixture)
from test_smtpd_access import BASELINE

ZONES = {
    "bl.example.test": """
10.2.0.192      A    127.0.0.2
10.2.0.192      TXT  "listed"
spam.test       A    127.0.0.2
""",
    "example.test": """
mail            A    192.0.2.25
@               MX   10 mail.example.test.
ok              MX   10 mail.example.test.
nullmx          MX   0 .
""",
    "spam.test": "@ A 192.0.2.66\n",
}


@pytest.fixture
def mx(instance, dns_server):  # noqa: F811 (fixture)
    def make(broken=(), **params):
        server = dns_server(ZONES, broken=broken)
        m = AgentMx(instance, BASELINE)
        m.inst.settings["dns_resolver_servers"] = server.address
        return m.start(**params)
    return make


def test_rbl_client_listed(mx):
    """Check 32: a listed client, with the TXT record as the reason."""
    m = mx(smtpd_client_restrictions="reject_rbl_client bl.example.test")
    assert m.rcpt("alice@example.test", outside=True) == (
        554, "5.7.1 Service unavailable; Client host [192.0.2.10] blocked using bl.example.test; listed")
    assert m.rcpt("alice@example.test") == (250, "2.1.5 Ok")


def test_rbl_lookup_error_is_not_listed(mx):
    """Check 32, second half: the list's zone answers SERVFAIL."""
    m = mx(broken=["bl.example.test"], smtpd_client_restrictions="reject_rbl_client bl.example.test")
    assert m.rcpt("alice@example.test", outside=True) == (250, "2.1.5 Ok")
    m.inst.wait_log(r"warning: .*RBL lookup error")


def test_rbl_reply_filter_on_answers(mx):
    """D=127.0.0.3 limits the answers that count: 127.0.0.2 does not."""
    m = mx(smtpd_client_restrictions="reject_rbl_client bl.example.test=127.0.0.3")
    assert m.rcpt("alice@example.test", outside=True) == (250, "2.1.5 Ok")


def test_rhsbl_sender(mx):
    """Check 33."""
    m = mx(smtpd_sender_restrictions="reject_rhsbl_sender bl.example.test")
    assert m.rcpt("alice@example.test", sender="x@spam.test") == (
        554, "5.7.1 Service unavailable; Sender address [x@spam.test] blocked using bl.example.test")
    assert m.rcpt("alice@example.test", sender="x@ok.example.test") == (250, "2.1.5 Ok")


def test_unknown_sender_domain_nxdomain(mx):
    """Check 34: NXDOMAIN."""
    m = mx(smtpd_sender_restrictions="reject_unknown_sender_domain")
    assert m.rcpt("alice@example.test", sender="x@nx.example.test") == (
        450, "4.1.8 <x@nx.example.test>: Sender address rejected: Domain not found")
    assert m.rcpt("alice@example.test", sender="x@ok.example.test") == (250, "2.1.5 Ok")


def test_unknown_sender_domain_servfail_defers_if_permitted(mx):
    """Check 34: SERVFAIL defers (defer_if_permit) ..."""
    m = mx(broken=["spam.test"], smtpd_sender_restrictions="reject_unknown_sender_domain")
    assert m.rcpt("alice@example.test", sender="x@spam.test") == (
        450, "4.1.8 <x@spam.test>: Sender address rejected: Domain not found")


def test_unknown_sender_domain_servfail_then_reject(mx):
    """Check 34: ... unless a later restriction rejects."""
    m = mx(broken=["spam.test"], smtpd_sender_restrictions="reject_unknown_sender_domain",
           smtpd_recipient_restrictions="reject")
    assert m.rcpt("alice@example.test", sender="x@spam.test") == (
        554, "5.7.1 <alice@example.test>: Recipient address rejected: Access denied")


def test_null_mx_sender_domain(mx):
    """A sender domain with a null MX does not accept mail (RFC 7505)."""
    m = mx(smtpd_sender_restrictions="reject_unknown_sender_domain")
    assert m.rcpt("alice@example.test", sender="x@nullmx.example.test") == (
        550, "5.7.27 <x@nullmx.example.test>: Sender address rejected: Domain nullmx.example.test "
             "does not accept mail (nullMX)")
