"""End-to-end tests of SASL in the SMTP server (spec/security.md 5;
acceptance checks 8-19 of section 11).

Baseline: the spec's instance (myhostname mx.example.test, local domains
mx.example.test, localhost and example.test, mynetworks 127.0.0.1/32),
smtpd_sasl_auth_enable = yes, smtpd_sasl_type = dovecot and
smtpd_sasl_path = private/auth, where the scripted auth server of
authd.py (alice/secret) listens. Mail goes to the test agent, which
journals what it was asked to deliver. "Outside" clients connect from
127.0.0.2. The same core exchanges run against Dovecot's real auth
service (dovecot.py) and against Cyrus SASL with a sasldb, with the raw
client, Python's smtplib and swaks.

The STARTTLS parts of checks 15 and 16 (and the ESMTPSA variant of 17)
need the TLS work in smtpd (smtpd_tls.c): they use tlscerts.py and
smtpd_tls_chain_files and pass once STARTTLS is implemented.
"""
import base64
import hashlib
import hmac
import os
import pwd
import re
import shutil
import smtplib
import ssl
import subprocess

import pytest

import tlscerts
from agentmx import AgentMx
from authd import AuthServer
from dovecot import Dovecot
from policyd import PolicyServer
from smtpchat import SmtpChat

QID = r"[0-9A-F]{6,}"
OUTSIDE = "127.0.0.2"

PLAIN_ALICE = "AGFsaWNlAHNlY3JldA=="  # "\0alice\0secret"
PLAIN_WRONG = base64.b64encode(b"\0alice\0wrong").decode()

BASELINE = {
    "myhostname": "mx.example.test",
    "mydestination": "$myhostname, localhost, example.test",
    "mynetworks": "127.0.0.1/32",
    "alias_maps": "",
    "local_recipient_maps": "inline:{alice=1, bob=1}",
    "smtpd_sasl_auth_enable": "yes",
    "smtpd_sasl_type": "dovecot",
    "smtpd_sasl_path": "private/auth",
}


class Mx(AgentMx):
    """The baseline instance plus its auth server; chat() opens a session."""

    def __init__(self, inst):
        super().__init__(inst, BASELINE)
        self.auth = None

    def start(self, mechs=None, users=None, auth_path=None, queue_only=False, **params):
        """Start (AgentMx.start()), then the auth server at private/auth
        (or AUTH_PATH) with MECHS."""
        super().start(queue_only=queue_only, **params)
        path = auth_path or os.path.join(self.inst.queue_dir, "private", "auth")
        kwargs = {"users": users} if users is not None else {}
        if mechs is not None:
            kwargs["mechs"] = mechs
        self.auth = AuthServer(path, **kwargs).start()
        return self

    def stop_auth(self):
        if self.auth:
            self.auth.kill()

    def ehlo_lines(self, source=None):
        with SmtpChat(self.inst.smtp_port, source=source) as chat:
            return chat.lines("EHLO c.test")


@pytest.fixture
def mx(instance):
    m = Mx(instance)
    yield m
    m.stop_auth()


def send_message(chat, sender, rcpt, body="Subject: t\r\n\r\nbody\r\n"):
    """MAIL, RCPT, DATA; returns the queue id."""
    assert chat.cmd(f"MAIL FROM:<{sender}>") == (250, "2.1.0 Ok")
    assert chat.cmd(f"RCPT TO:<{rcpt}>") == (250, "2.1.5 Ok")
    assert chat.cmd("DATA")[0] == 354
    code, text = chat.cmd(body + ".")
    assert code == 250, text
    return re.search(r"queued as (\S+)", text).group(1)


def received_header(inst, qid):
    """The Received: header smtpd wrote into the queued message (postcat)."""
    out = inst.postcat(qid, "-h")
    m = re.search(r"^Received: .*?(?=^\S)", out, re.M | re.S)
    assert m, out
    return m.group(0)


# --- checks 8-14: announcement and exchanges ----------------------------------

def test_ehlo_announces_mechanisms(mx):
    """Check 8: AUTH in the server's mechanism order, after ETRN; with
    broken_sasl_auth_clients also AUTH= on the next line."""
    mx.start()
    lines = mx.ehlo_lines()
    assert "250-AUTH PLAIN LOGIN" in lines
    assert lines.index("250-AUTH PLAIN LOGIN") == lines.index("250-ETRN") + 1
    assert not any(l.startswith("250-AUTH=") for l in lines)
    mx.inst.stop()
    mx.inst.update_main_cf({"broken_sasl_auth_clients": "yes"})
    mx.inst.start()
    lines = mx.ehlo_lines()
    i = lines.index("250-AUTH PLAIN LOGIN")
    assert lines[i + 1] == "250-AUTH=PLAIN LOGIN"
    # The backend saw the handshake of a Dovecot auth client.
    assert any(h.startswith("VERSION\t1\t") for h in mx.auth.handshakes)
    assert any(h.startswith("CPID\t") for h in mx.auth.handshakes)


def test_auth_plain_initial_response(mx):
    """Check 9: success, a second AUTH, the client= log line, ESMTPA."""
    mx.start()
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}") == (235, "2.7.0 Authentication successful")
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}") == (503, "5.5.1 Error: already authenticated")
        qid = send_message(chat, "alice@example.test", "bob@example.test")
        chat.cmd("QUIT")
    mx.inst.wait_log(rf": {qid}: client=localhost\[127\.0\.0\.1\], sasl_method=PLAIN, "
                     rf"sasl_username=alice$")
    req = mx.auth.requests[0]
    assert req["mech"] == "PLAIN" and req["resp"] == PLAIN_ALICE
    assert req["service"] == "smtp" and req["nologin"] is True
    assert req["rip"] == "127.0.0.1" and req["lip"] == "127.0.0.1"
    assert len(mx.auth.requests) == 1  # the second AUTH never reached it
    entry = mx.request(qid)
    assert entry["sender"] == "alice@example.test"


def test_auth_login_two_challenges(mx):
    """Check 10, and LOGIN with an initial response skips the first challenge."""
    mx.start()
    with mx.chat() as chat:
        assert chat.one("AUTH LOGIN") == "334 VXNlcm5hbWU6"
        assert chat.one("YWxpY2U=") == "334 UGFzc3dvcmQ6"
        assert chat.cmd("c2VjcmV0") == (235, "2.7.0 Authentication successful")
    with mx.chat() as chat:
        assert chat.one("AUTH LOGIN YWxpY2U=") == "334 UGFzc3dvcmQ6"
        assert chat.cmd("c2VjcmV0") == (235, "2.7.0 Authentication successful")


def test_auth_plain_empty_challenge_and_abort(mx):
    """Check 11: "334 " exactly; "*" aborts; then a normal exchange works."""
    mx.start()
    with mx.chat() as chat:
        assert chat.one("AUTH PLAIN") == "334 "
        assert chat.cmd("*") == (501, "5.7.0 Authentication aborted")
        assert chat.one("AUTH PLAIN") == "334 "
        assert chat.cmd(PLAIN_ALICE) == (235, "2.7.0 Authentication successful")
    mx.inst.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL PLAIN authentication aborted$")


def test_wrong_password(mx):
    """Check 12: 535 with the backend's reason, the warning with the user."""
    mx.start()
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_WRONG}") == (
            535, "5.7.8 Error: authentication failed: Authentication failed")
        # Unknown mechanism and bad base64 are 535 as well.
        code, text = chat.cmd("AUTH DIGEST-MD5")
        assert code == 535 and text.startswith("5.7.8 Error: authentication failed:")
        code, text = chat.cmd("AUTH PLAIN !!!notbase64")
        assert code == 535 and text.startswith("5.7.8 Error: authentication failed:")
        # Failure does not stick: the right password still works.
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
    # Postfix logs the user name of Dovecot's FAIL (user=alice).
    mx.inst.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL PLAIN authentication failed: "
                     r"Authentication failed, sasl_username=alice$")
    mx.inst.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL DIGEST-MD5 authentication failed: ")


def test_auth_server_killed_after_ehlo(mx):
    """Check 12: the backend goes away after EHLO: 454 with a reason."""
    mx.start()
    with mx.chat() as chat:
        mx.auth.kill()
        code, text = chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")
        assert code == 454, text
        assert text.startswith("4.7.0 Temporary authentication failure: ")
        assert chat.cmd("NOOP") == (250, "2.0.0 Ok")
    mx.inst.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL PLAIN authentication failed: ")


def test_auth_syntax_and_state(mx):
    """Check 13, plus HELO required and the response limit."""
    mx.start(smtpd_helo_required="yes")
    with mx.chat(helo=None) as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}") == (503, "5.5.1 Error: send HELO/EHLO first")
        assert chat.cmd("EHLO c.test")[0] == 250
        assert chat.cmd("AUTH") == (501, "5.5.4 Syntax: AUTH mechanism")
        assert chat.cmd("AUTH PLAIN a b") == (501, "5.5.4 Syntax: AUTH mechanism")
        assert chat.cmd("MAIL FROM:<a@example.test>")[0] == 250
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}") == (503, "5.5.1 Error: MAIL transaction in progress")
        assert chat.cmd("RSET")[0] == 250
        assert chat.one("AUTH PLAIN") == "334 "
        assert chat.cmd("A" * 12289) == (500, "5.5.6 SASL response limit exceeded")
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235


def test_auth_not_enabled(mx):
    """Check 14: no AUTH in EHLO; AUTH is 503."""
    mx.start(smtpd_sasl_auth_enable="no")
    assert not any("AUTH" in l for l in mx.ehlo_lines())
    with mx.chat() as chat:
        assert chat.cmd("AUTH PLAIN x") == (503, "5.5.1 Error: authentication not enabled")
    assert mx.auth.handshakes == []


def test_discarded_auth_keyword(mx):
    """smtpd_discard_ehlo_keywords = auth: not announced, AUTH is 503."""
    mx.start(smtpd_discard_ehlo_keywords="auth")
    assert not any("AUTH" in l for l in mx.ehlo_lines())
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}") == (503, "5.5.1 Error: authentication not enabled")


def test_exceptions_networks_hide_auth_but_accept_it(mx):
    mx.start(smtpd_sasl_exceptions_networks="127.0.0.1")
    assert not any("AUTH" in l for l in mx.ehlo_lines())
    assert "250-AUTH PLAIN LOGIN" in mx.ehlo_lines(source=OUTSIDE)
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235


def test_mechanism_filter(mx):
    """smtpd_sasl_mechanism_filter keeps the listed mechanisms in server order;
    a filter that removes all is fatal for the session."""
    mx.start(mechs=(("PLAIN", "plaintext"), ("EXTERNAL",), ("LOGIN", "plaintext"), ("CRAM-MD5", "dictionary")))
    # The default filter "!external, static:rest" drops EXTERNAL only.
    assert "250-AUTH PLAIN LOGIN CRAM-MD5" in mx.ehlo_lines()
    mx.inst.stop()
    mx.inst.update_main_cf({"smtpd_sasl_mechanism_filter": "cram-md5, login"})
    mx.inst.start()
    assert "250-AUTH LOGIN CRAM-MD5" in mx.ehlo_lines()
    mx.inst.stop()
    mx.inst.update_main_cf({"smtpd_sasl_mechanism_filter": "gssapi"})
    mx.inst.start()
    mark = mx.inst.log_mark()
    with pytest.raises(EOFError):
        SmtpChat(mx.inst.smtp_port)
    mx.inst.wait_log(r"warning: smtpd_sasl_mechanism_filter discards all mechanisms in "
                     r"'PLAIN EXTERNAL LOGIN CRAM-MD5'$", since=mark)
    mx.inst.wait_log(r"fatal: no SASL authentication mechanisms$", since=mark)


def test_no_auth_server_is_fatal(mx):
    """As Postfix: no backend, no session (no greeting); the master
    restarts smtpd for the next client."""
    mx.start(smtpd_sasl_path="private/nonexistent")
    mark = mx.inst.log_mark()
    with pytest.raises(EOFError):
        SmtpChat(mx.inst.smtp_port)
    mx.inst.wait_log(r"warning: SASL: Connect to Dovecot auth socket 'private/nonexistent' failed: "
                     r"No such file or directory$", since=mark)
    mx.inst.wait_log(r"fatal: no SASL authentication mechanisms$", since=mark)


def test_security_options_plaintext(mx):
    """Check 16, plaintext part: noplaintext hides PLAIN; noanonymous
    hides ANONYMOUS; CRAM-MD5 works."""
    mx.start(mechs=(("PLAIN", "plaintext"), ("ANONYMOUS", "anonymous"), ("CRAM-MD5", "dictionary")),
             smtpd_sasl_security_options="noanonymous, noplaintext",
             smtpd_sasl_tls_security_options="noanonymous")
    assert "250-AUTH CRAM-MD5" in mx.ehlo_lines()
    with mx.chat() as chat:
        line = chat.one("AUTH CRAM-MD5")
        assert line.startswith("334 ")
        challenge = base64.b64decode(line[4:])
        digest = hmac.new(b"secret", challenge, hashlib.md5).hexdigest()
        assert chat.cmd(base64.b64encode(f"alice {digest}".encode()).decode()) == (
            235, "2.7.0 Authentication successful")


# --- checks 17-19: relaying, Received:, sender ownership ------------------------

def test_relay_after_auth(mx):
    """Check 17: an outside client may relay after AUTH; Received: says ESMTPA."""
    mx.start()
    with mx.chat(source=OUTSIDE) as chat:
        assert chat.cmd("MAIL FROM:<a@remote.test>")[0] == 250
        assert chat.cmd("RCPT TO:<u@remote.test>") == (454, "4.7.1 <u@remote.test>: Relay access denied")
        assert chat.cmd("RSET")[0] == 250
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
        qid = send_message(chat, "alice@example.test", "u@remote.test")
    mx.inst.wait_log(rf"{qid}: client=unknown\[127\.0\.0\.2\], sasl_method=PLAIN, sasl_username=alice$")
    entry = mx.request(qid)
    assert [r["address"] for r in entry["recipients"]] == ["u@remote.test"]


def test_received_header_esmtpa_and_authenticated_sender(mx):
    """Checks 17 and 18: with ESMTPA; (Authenticated sender: alice) only
    with smtpd_sasl_authenticated_header."""
    mx.start(queue_only=True, smtpd_sasl_authenticated_header="yes")
    with mx.chat(source=OUTSIDE) as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
        qid = send_message(chat, "alice@example.test", "u@remote.test")
    hdr = received_header(mx.inst, qid)
    assert "\n\t(Authenticated sender: alice)\n" in hdr
    assert re.search(rf"\tby mx\.example\.test \(Postern\) with ESMTPA id {qid}\b", hdr), hdr
    # Without the parameter: no comment; plain HELO after AUTH is not ESMTPA.
    mx.inst.stop()
    mx.inst.update_main_cf({"smtpd_sasl_authenticated_header": "no"})
    mx.inst.start()
    with mx.chat(source=OUTSIDE) as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
        qid = send_message(chat, "alice@example.test", "u@remote.test")
    hdr = received_header(mx.inst, qid)
    assert "Authenticated sender" not in hdr
    assert f"with ESMTPA id {qid}" in hdr


def test_sender_login_maps(mx):
    """Check 19 and the other *_sender_login_mismatch restrictions."""
    mx.start(smtpd_sender_login_maps="inline:{alice@example.test=alice, bob@example.test=bob, "
                                     "{@shared.test=alice bob}}",
             smtpd_sender_restrictions="reject_sender_login_mismatch")
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
        assert chat.cmd("MAIL FROM:<bob@example.test>")[0] == 250
        assert chat.cmd("RCPT TO:<bob@example.test>") == (
            553, "5.7.1 <bob@example.test>: Sender address rejected: not owned by user alice")
        assert chat.cmd("RSET")[0] == 250
        # Unlisted senders are not owned by anyone.
        assert chat.cmd("MAIL FROM:<carol@example.test>")[0] == 250
        assert chat.cmd("RCPT TO:<bob@example.test>") == (
            553, "5.7.1 <carol@example.test>: Sender address rejected: not owned by user alice")
        assert chat.cmd("RSET")[0] == 250
        for sender in ("alice@example.test", "ALICE@example.test", "x@shared.test", ""):
            assert chat.cmd(f"MAIL FROM:<{sender}>")[0] == 250
            assert chat.cmd("RCPT TO:<bob@example.test>") == (250, "2.1.5 Ok"), sender
            assert chat.cmd("RSET")[0] == 250
    mx.inst.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 553 5\.7\.1 "
                     r"<bob@example\.test>: Sender address rejected: not owned by user alice; "
                     r"from=<bob@example\.test> to=<bob@example\.test> proto=ESMTP helo=<c\.test>")
    with mx.chat() as chat:
        assert chat.cmd("MAIL FROM:<alice@example.test>")[0] == 250
        assert chat.cmd("RCPT TO:<bob@example.test>") == (
            553, "5.7.1 <alice@example.test>: Sender address rejected: not logged in")
        assert chat.cmd("RSET")[0] == 250
        assert chat.cmd("MAIL FROM:<carol@example.test>")[0] == 250
        assert chat.cmd("RCPT TO:<bob@example.test>") == (250, "2.1.5 Ok")


@pytest.mark.parametrize("restriction, authenticated, sender, code", [
    ("reject_authenticated_sender_login_mismatch", False, "alice@example.test", 250),
    ("reject_authenticated_sender_login_mismatch", True, "carol@example.test", 553),
    ("reject_known_sender_login_mismatch", True, "carol@example.test", 250),
    ("reject_known_sender_login_mismatch", True, "bob@example.test", 553),
    ("reject_known_sender_login_mismatch", False, "bob@example.test", 553),
    ("reject_unauthenticated_sender_login_mismatch", False, "bob@example.test", 553),
    ("reject_unauthenticated_sender_login_mismatch", True, "bob@example.test", 250),
    ("reject_unauthenticated_sender_login_mismatch", False, "carol@example.test", 250),
])
def test_sender_login_mismatch_variants(mx, restriction, authenticated, sender, code):
    mx.start(smtpd_sender_login_maps="inline:{alice@example.test=alice, bob@example.test=bob}",
             smtpd_sender_restrictions=restriction)
    with mx.chat() as chat:
        if authenticated:
            assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
        assert chat.cmd(f"MAIL FROM:<{sender}>")[0] == 250
        assert chat.cmd("RCPT TO:<bob@example.test>")[0] == code


def test_sender_login_maps_lookup_failure(mx):
    mx.start(smtpd_sender_login_maps="fail:logins",
             smtpd_sender_restrictions="reject_sender_login_mismatch")
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
        assert chat.cmd("MAIL FROM:<alice@example.test>")[0] == 250
        assert chat.cmd("RCPT TO:<bob@example.test>") == (
            451, "4.3.0 <alice@example.test>: Temporary lookup failure")


def test_check_sasl_access(mx):
    mx.start(smtpd_relay_restrictions="check_sasl_access inline:{{alice=REJECT no relaying for you}}, "
                                      "permit_sasl_authenticated, reject_unauth_destination")
    with mx.chat(source=OUTSIDE) as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
        assert chat.cmd("MAIL FROM:<alice@example.test>")[0] == 250
        assert chat.cmd("RCPT TO:<u@remote.test>") == (554, "5.7.1 <unknown[127.0.0.2]>: Client host "
                                                             "rejected: no relaying for you")


def test_mail_auth_parameter(mx):
    """AUTH= on MAIL is recorded as sasl_sender (AUTH=<> records nothing);
    a second AUTH= is 503."""
    mx.start()
    with mx.chat() as chat:
        assert chat.cmd("MAIL FROM:<a@example.test> AUTH=<> AUTH=<>") == (
            503, "5.5.4 Error: multiple AUTH= options")
        qid = send_message_with(chat, "MAIL FROM:<a@example.test> AUTH=alice@example.test")
        qid2 = send_message_with(chat, "MAIL FROM:<a@example.test> AUTH=<>")
    mx.inst.wait_log(rf"{qid}: client=localhost\[127\.0\.0\.1\], sasl_sender=alice@example\.test$")
    mx.inst.wait_log(rf"{qid2}: client=localhost\[127\.0\.0\.1\]$")


def send_message_with(chat, mail_cmd):
    assert chat.cmd(mail_cmd) == (250, "2.1.0 Ok")
    assert chat.cmd("RCPT TO:<bob@example.test>") == (250, "2.1.5 Ok")
    assert chat.cmd("DATA")[0] == 354
    code, text = chat.cmd("Subject: t\r\n\r\nbody\r\n.")
    assert code == 250
    return re.search(r"queued as (\S+)", text).group(1)


def test_auth_rate_limit(mx):
    """smtpd_client_auth_rate_limit through anvil; the anvil statistics."""
    mx.start(smtpd_client_auth_rate_limit="2", smtpd_client_event_limit_exceptions="",
             anvil_status_update_time="1s")
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_WRONG}")[0] == 535
        assert chat.cmd(f"AUTH PLAIN {PLAIN_WRONG}")[0] == 535
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}") == (
            450, "4.7.1 Error: too many AUTH commands from 127.0.0.1")
    mx.inst.wait_log(r"warning: AUTH command rate limit exceeded: 3 from localhost\[127\.0\.0\.1\] "
                     r"for service 127\.0\.0\.1:\d+$")
    assert len(mx.auth.requests) == 2
    mx.inst.wait_log(r"anvil\[\d+\]: statistics: max auth rate 3/60s for \(127\.0\.0\.1:\d+:127\.0\.0\.1\) at ")


def test_auth_rate_limit_exceptions(mx):
    """The default exceptions ($mynetworks) are exempt."""
    mx.start(smtpd_client_auth_rate_limit="1")
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_WRONG}")[0] == 535
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235


def test_auth_failures_count_as_errors(mx):
    """Failed AUTH commands count towards smtpd_hard_error_limit."""
    mx.start(smtpd_hard_error_limit="2", smtpd_soft_error_limit="10")
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_WRONG}")[0] == 535
        assert chat.cmd(f"AUTH PLAIN {PLAIN_WRONG}")[0] == 535
        assert chat.cmd("NOOP") == (421, "4.7.0 mx.example.test Error: too many errors")


def test_xclient_login(mx):
    """XCLIENT LOGIN= logs in (sasl_method XCLIENT); XCLIENT without it logs out."""
    mx.start(smtpd_authorized_xclient_hosts="127.0.0.1")
    with mx.chat() as chat:
        assert chat.cmd("XCLIENT LOGIN=carol ADDR=192.0.2.10 NAME=client.remote.test")[0] == 220
        assert chat.cmd("EHLO c.test")[0] == 250
        qid = send_message(chat, "carol@example.test", "u@remote.test")
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}") == (503, "5.5.1 Error: already authenticated")
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
        assert chat.cmd("XCLIENT ADDR=127.0.0.1 NAME=localhost")[0] == 220
        assert chat.cmd("EHLO c.test")[0] == 250
        assert chat.cmd("MAIL FROM:<a@example.test>")[0] == 250
        assert chat.cmd("RCPT TO:<u@remote.test>")[0] == 250  # permit_mynetworks
        assert chat.cmd("RSET")[0] == 250
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235  # the login was forgotten
    mx.inst.wait_log(rf"{qid}: client=client\.remote\.test\[192\.0\.2\.10\], sasl_method=XCLIENT, "
                     rf"sasl_username=carol$")


def test_policy_attributes(mx):
    """The policy service gets sasl_method, sasl_username and sasl_sender."""
    with PolicyServer() as pol:
        mx.start(smtpd_recipient_restrictions=f"check_policy_service {pol.endpoint}")
        with mx.chat() as chat:
            assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
            assert chat.cmd("MAIL FROM:<alice@example.test> AUTH=alice@example.test")[0] == 250
            chat.cmd("RCPT TO:<bob@example.test>")
        req = pol.requests[0]
    assert req["sasl_method"] == "PLAIN"
    assert req["sasl_username"] == "alice"
    assert req["sasl_sender"] == "alice@example.test"


# --- real clients: smtplib, swaks ---------------------------------------------

@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_smtplib_login(mx, mech):
    mx.start()
    smtp = smtplib.SMTP("127.0.0.1", mx.inst.smtp_port, timeout=30)
    try:
        smtp.ehlo("c.test")
        assert smtp.has_extn("auth")
        smtp.user, smtp.password = "alice", "secret"
        code, _ = smtp.auth(mech, getattr(smtp, f"auth_{mech.lower()}"), initial_response_ok=(mech == "PLAIN"))
        assert code == 235
        # smtplib takes 503 (already authenticated) as success.
        assert smtp.login("alice", "secret") == (503, b"5.5.1 Error: already authenticated")
    finally:
        smtp.close()
    with pytest.raises(smtplib.SMTPAuthenticationError) as exc:
        with smtplib.SMTP("127.0.0.1", mx.inst.smtp_port, timeout=30) as s:
            s.login("alice", "wrong")
    assert exc.value.smtp_code == 535


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_swaks_auth(mx, mech):
    swaks = shutil.which("swaks")
    assert swaks, "swaks missing (tools/packages)"
    mx.start()
    res = subprocess.run([swaks, "--server", "127.0.0.1", "--port", str(mx.inst.smtp_port),
                          "--from", "alice@example.test", "--to", "u@remote.test",
                          "--auth", mech, "--auth-user", "alice", "--auth-password", "secret",
                          "--helo", "c.test", "--timeout", "30"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "<-  235 2.7.0 Authentication successful" in res.stdout
    qid = re.search(r"queued as (\S+)", res.stdout).group(1)
    mx.inst.wait_log(rf"{qid}: client=localhost\[127\.0\.0\.1\], sasl_method={mech}, sasl_username=alice$")
    res = subprocess.run([swaks, "--server", "127.0.0.1", "--port", str(mx.inst.smtp_port),
                          "--from", "alice@example.test", "--to", "u@remote.test",
                          "--auth", mech, "--auth-user", "alice", "--auth-password", "wrong",
                          "--helo", "c.test", "--timeout", "30"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert "535 5.7.8 Error: authentication failed:" in res.stdout


# --- real backends: Dovecot's auth service, Cyrus sasldb --------------------------

def test_real_dovecot_auth(mx):
    with Dovecot() as dc:
        dc.add_user("alice", "secret")
        mx.start(smtpd_sasl_path=dc.auth_socket)
        lines = mx.ehlo_lines()
        assert "250-AUTH PLAIN LOGIN" in lines
        with mx.chat(source=OUTSIDE) as chat:
            assert chat.cmd(f"AUTH PLAIN {PLAIN_WRONG}")[0] == 535
            assert chat.one("AUTH LOGIN") == "334 VXNlcm5hbWU6"
            assert chat.one("YWxpY2U=") == "334 UGFzc3dvcmQ6"
            assert chat.cmd("c2VjcmV0") == (235, "2.7.0 Authentication successful")
            qid = send_message(chat, "alice@example.test", "u@remote.test")
        mx.inst.wait_log(rf"{qid}: client=unknown\[127\.0\.0\.2\], sasl_method=LOGIN, sasl_username=alice$")
        mx.inst.wait_log(r"warning: unknown\[127\.0\.0\.2\]: SASL PLAIN authentication failed: ")
        with mx.chat() as chat:
            assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}") == (235, "2.7.0 Authentication successful")


def _sasldb(mx, realm):
    """smtpd.conf and a sasldb with alice/secret in a directory of the instance."""
    conf_dir = os.path.join(mx.inst.root, "sasl")
    os.makedirs(conf_dir)
    db = os.path.join(conf_dir, "sasldb2")
    res = subprocess.run(["saslpasswd2", "-f", db, "-p", "-c", "-u", realm, "alice"],
                         input="secret", capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    os.chmod(db, 0o644)
    with open(os.path.join(conf_dir, "smtpd.conf"), "w") as f:
        f.write(f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n"
                f"sasldb_path: {db}\n")
    os.chmod(conf_dir, 0o755)
    return conf_dir


def test_cyrus_sasldb(mx):
    conf_dir = _sasldb(mx, "example.test")
    mx.start(smtpd_sasl_type="cyrus", smtpd_sasl_path="smtpd", cyrus_sasl_config_path=conf_dir,
             smtpd_sasl_local_domain="example.test")
    assert "250-AUTH PLAIN LOGIN" in mx.ehlo_lines() or "250-AUTH LOGIN PLAIN" in mx.ehlo_lines()
    with mx.chat(source=OUTSIDE) as chat:
        code, text = chat.cmd(f"AUTH PLAIN {PLAIN_WRONG}")
        assert code == 535 and text.startswith("5.7.8 Error: authentication failed:")
        assert chat.one("AUTH LOGIN") == "334 VXNlcm5hbWU6"
        assert chat.one("YWxpY2U=") == "334 UGFzc3dvcmQ6"
        assert chat.cmd("c2VjcmV0") == (235, "2.7.0 Authentication successful")
        qid = send_message(chat, "alice@example.test", "u@remote.test")
    m = mx.inst.wait_log(rf"{qid}: client=unknown\[127\.0\.0\.2\], sasl_method=LOGIN, sasl_username=(\S+)$")
    assert m.group(1) in ("alice", "alice@example.test")
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}") == (235, "2.7.0 Authentication successful")


# --- TLS (checks 15, 16, 17 with ESMTPSA): need STARTTLS in smtpd ----------------

def _tls_params(inst):
    """Level may with the server chain copied where the instance can read it."""
    pki = tlscerts.pki()
    with open(pki.server.chain, "rb") as f:
        chain = inst.write_file("server.chain.pem", f.read(), mode=0o600)
    return pki, {"smtpd_tls_security_level": "may", "smtpd_tls_chain_files": chain}


def _starttls(chat):
    assert chat.cmd("STARTTLS") == (220, "2.0.0 Ready to start TLS")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    chat.sock = ctx.wrap_socket(chat.sock, server_hostname="mx.example.test")
    chat.buf = b""
    return chat


def test_tls_auth_only(mx):
    """Check 15: no AUTH before STARTTLS; after it, AUTH works."""
    pki, tls = _tls_params(mx.inst)
    mx.start(smtpd_tls_auth_only="yes", **tls)
    lines = mx.ehlo_lines()
    assert "250-STARTTLS" in lines
    assert not any("AUTH" in l for l in lines)
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}") == (503, "5.5.1 Error: authentication not enabled")
        _starttls(chat)
        assert "250-AUTH PLAIN LOGIN" in chat.lines("EHLO c.test")
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}") == (235, "2.7.0 Authentication successful")
    assert mx.auth.requests[0]["secured"] is True


def test_tls_security_options(mx):
    """Check 16: PLAIN only after STARTTLS; Received: says ESMTPSA."""
    pki, tls = _tls_params(mx.inst)
    mx.start(mechs=(("PLAIN", "plaintext"), ("CRAM-MD5", "dictionary")), queue_only=True,
             smtpd_sasl_security_options="noanonymous, noplaintext",
             smtpd_sasl_tls_security_options="noanonymous", **tls)
    with mx.chat(source=OUTSIDE) as chat:
        assert "250-AUTH CRAM-MD5" in chat.lines("EHLO c.test")
        _starttls(chat)
        assert "250-AUTH PLAIN CRAM-MD5" in chat.lines("EHLO c.test")
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
        qid = send_message(chat, "alice@example.test", "u@remote.test")
    mx.inst.wait_log(rf"{qid}: client=unknown\[127\.0\.0\.2\], sasl_method=PLAIN, sasl_username=alice$")
    assert f"with ESMTPSA id {qid}" in received_header(mx.inst, qid)
    assert mx.auth.requests[0]["secured"] is True


def test_smtplib_starttls_login(mx):
    pki, tls = _tls_params(mx.inst)
    mx.start(smtpd_tls_auth_only="yes", **tls)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", mx.inst.smtp_port, timeout=30) as smtp:
        smtp.ehlo("c.test")
        assert not smtp.has_extn("auth")
        smtp.starttls(context=ctx)
        smtp.ehlo("c.test")
        assert smtp.login("alice", "secret")[0] == 235


# --- the AUTH login travels with the message to the delivery agents -----------

SASL_RECORDER = """\
#!/bin/sh
# argv: pipe(8)'s ${{sasl_method}} ${{sasl_username}} ${{sasl_sender}} ${{recipient}};
# as local(8)'s mailbox_command (no arguments): its SASL_* environment.
if [ $# -gt 0 ]; then
    f=$(mktemp "{out}/pipe.XXXXXX")
    for a in "$@"; do printf '%s\\0' "$a"; done > "$f"
else
    f=$(mktemp "{out}/local.XXXXXX")
    env > "$f"
fi
cat > /dev/null
exit 0
"""


def test_sasl_login_reaches_pipe_and_local(mx):
    """The queue file keeps sasl_method/sasl_username/sasl_sender (postcat);
    the queue manager passes them on: pipe(8)'s ${sasl_*} macros and
    local(8)'s SASL_* command environment see them, and are empty without
    AUTH."""
    inst = mx.inst
    user = inst.user.pw_name if inst.user else pwd.getpwuid(os.getuid()).pw_name
    out = os.path.join(inst.root, "sasl-out")
    os.makedirs(out)
    inst._own(out)
    script = inst.write_file(os.path.join(inst.root, "sasl-record.sh"),
                             SASL_RECORDER.format(out=out), mode=0o755)
    inst.write_master_cf(inst.read_master_cf()
                         + f"saslpipe unix - n n - - pipe user={user} argv={script} "
                           "${sasl_method} ${sasl_username} ${sasl_sender} ${recipient}\n")
    local_rcpt = f"{user}@mx.example.test"
    master = inst.read_master_cf()

    # Queued only: postcat shows the attributes smtpd wrote, in Postfix's names.
    mx.start(queue_only=True)
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
        qid = send_message_with(chat, "MAIL FROM:<a@example.test> AUTH=<alice@example.test>")
    out_pc = inst.postcat(qid)
    assert "named_attribute: sasl_method=PLAIN\n" in out_pc
    assert "named_attribute: sasl_username=alice\n" in out_pc
    # AUTH=<addr> is kept as given, brackets included (as Postfix does).
    assert "named_attribute: sasl_sender=<alice@example.test>\n" in out_pc
    mx.stop_auth()
    inst.stop()

    # Delivered: with AUTH (and AUTH= on MAIL), then without.
    inst.write_master_cf(master)
    mx.start(transport_maps="inline:{pipe.test=saslpipe:}", local_transport="local",
             local_recipient_maps="", mailbox_command=script)
    with mx.chat() as chat:
        assert chat.cmd(f"AUTH PLAIN {PLAIN_ALICE}")[0] == 235
        assert chat.cmd("MAIL FROM:<a@example.test> AUTH=<alice@example.test>") == (250, "2.1.0 Ok")
        assert chat.cmd("RCPT TO:<x@pipe.test>") == (250, "2.1.5 Ok")
        assert chat.cmd(f"RCPT TO:<{local_rcpt}>") == (250, "2.1.5 Ok")
        assert chat.cmd("DATA")[0] == 354
        code, text = chat.cmd("Subject: t\r\n\r\nbody\r\n.")
        assert code == 250, text
        qid = re.search(r"queued as (\S+)", text).group(1)
    inst.wait_log(rf": {qid}: removed")
    with mx.chat() as chat:
        qid2 = send_message(chat, "b@example.test", "y@pipe.test")
    inst.wait_log(rf": {qid2}: removed")

    runs = {}
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name), "rb") as f:
            runs.setdefault(name.split(".")[0], []).append(f.read().decode())
    pipe_args = sorted(r.split("\0")[:-1] for r in runs["pipe"])
    assert pipe_args == [["", "", "", "y@pipe.test"],
                         ["PLAIN", "alice", "<alice@example.test>", "x@pipe.test"]]
    assert len(runs["local"]) == 1
    env = dict(line.split("=", 1) for line in runs["local"][0].splitlines() if "=" in line)
    assert env["SASL_METHOD"] == "PLAIN"
    assert env["SASL_USERNAME"] == "alice"
    assert env["SASL_SENDER"] == "_alice@example.test_"  # command_expansion_filter
    assert env["RECIPIENT"] == local_rcpt
