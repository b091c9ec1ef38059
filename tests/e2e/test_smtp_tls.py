"""End-to-end tests of TLS in the smtp(8) client (spec/security.md 8,
acceptance checks 22 and 23, DANE).

The peer is smtppeer.Peer with STARTTLS or wrapper-mode TLS and a
certificate from the test PKI (tlscerts.py: mx.example.test, wrong.test,
client certificates). BIND (dnsserver.py) serves "example.test" with
mx.example.test -> 127.0.0.1, and for DANE a DNSSEC-signed zone behind a
validating resolver. Mail enters through cleanup; the tests read
Postern's log lines (delivery status, "... TLS connection established
to ...") and what the peer received (bytes, TLS version, the client
certificate it saw). The last test hands mail to a scratch Debian
Postfix smtpd with STARTTLS and reads Postfix's own log.
"""

import hashlib
import re
import shutil
import tempfile

import pytest

import tlscerts
from dnsserver import dns_server  # noqa: F401 (fixture)
from smtppeer import Peer
from test_smtp_client import SENDER, line_for, submit

HOST = "mx.example.test"
ZONE = {"example.test": "mx A 127.0.0.1\n"}
BODY = "line one\n.hidden dot line\nlast\n"
WANT_DATA = b"\r\nline one\r\n.hidden dot line\r\nlast\r\n"


@pytest.fixture
def pki():
    return tlscerts.pki()


@pytest.fixture
def peer():
    made = []

    def make(**kwargs):
        p = Peer(**kwargs).start()
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


def configure(inst, dns, p, nexthop=None, transport=True, **params):
    """Route example.com to the peer ([mx.example.test]:PORT) and start."""
    settings = {"minimal_backoff_time": "300s", "maximal_backoff_time": "300s",
                "smtp_connect_timeout": "5s", "dns_resolver_servers": dns.address}
    if transport:
        inst.write_file("transport", f"example.com smtp:{nexthop or f'[{HOST}]:{p.port}'}\n")
        settings["transport_maps"] = f"texthash:{inst.path}/transport"
    settings.update(params)
    inst.settings.update(settings)
    inst.write_main_cf("")
    inst.start()


def established(inst, port, kind=r"\w+"):
    """The "... TLS connection established to ..." log line (match)."""
    return inst.wait_log(rf"postfix/smtp\[\d+\]: (?P<kind>{kind}) TLS connection established to "
                         rf"{re.escape(HOST)}\[127\.0\.0\.1\]:{port}: (?P<proto>TLSv1(\.[0-3])?) "
                         rf"with cipher \S+ \(\d+/\d+ bits\)")


def assert_delivered_over_tls(p, rcpt="bob@example.com"):
    msg = p.wait_messages(1)[0]
    assert msg.rcpt_to == [rcpt]
    assert msg.tls is not None and msg.tls["version"].startswith("TLSv1")
    assert msg.data.endswith(WANT_DATA)
    sess = msg.session
    # STARTTLS, then EHLO again over TLS before the mail transaction.
    verbs = [c.split(" ")[0].upper() for c in sess.commands]
    if "STARTTLS" in verbs:
        i = verbs.index("STARTTLS")
        assert verbs[:i] == ["EHLO"] and verbs[i + 1] == "EHLO", sess.commands
    return msg


def assert_no_mail(p):
    """The peer saw sessions, but never a MAIL command."""
    p.wait_sessions(1, closed=True)
    for sess in p.sessions:
        assert not any(c.upper().startswith("MAIL") for c in sess.commands), sess.commands
    assert p.messages == []


# --- acceptance check 22 ---------------------------------------------------

def test_encrypt_without_starttls_is_deferred(make_instance, dns_server, peer):  # noqa: F811
    p = peer()
    dns = dns_server(ZONE)
    inst = make_instance()
    configure(inst, dns, p, smtp_tls_security_level="encrypt")
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert got["relay"] == f"{HOST}[127.0.0.1]:{p.port}"
    assert (got["dsn"], got["status"]) == ("4.7.4", "deferred")
    assert got["text"] == f"TLS is required, but was not offered by host {HOST}[127.0.0.1]"
    assert_no_mail(p)
    assert p.sessions[0].commands[-1] == "QUIT"
    r = inst.run("postqueue", "-p")
    assert f"(TLS is required, but was not offered by host {HOST}[127.0.0.1])" in r.stdout


# --- acceptance check 23 ---------------------------------------------------

def test_secure_with_wrong_certificate_is_deferred(make_instance, dns_server, peer, pki):  # noqa: F811
    p = peer(starttls=True, tls_cert=pki.wrong)
    dns = dns_server(ZONE)
    inst = make_instance()
    configure(inst, dns, p, smtp_tls_security_level="secure", smtp_tls_CAfile=pki.ca,
              smtp_tls_loglevel="1")
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"], got["text"]) == \
        ("4.7.5", "deferred", "Server certificate not verified")
    # The chain is trusted (same CA), the name is not mx.example.test.
    assert established(inst, p.port)["kind"] == "Trusted"
    assert_no_mail(p)
    # Ended politely, over TLS.
    assert p.sessions[0].tls is not None and p.sessions[0].commands[-1] == "QUIT"


def test_may_with_wrong_certificate_delivers_over_tls(make_instance, dns_server, peer, pki):  # noqa: F811
    p = peer(starttls=True, tls_cert=pki.wrong)
    dns = dns_server(ZONE)
    inst = make_instance()
    configure(inst, dns, p, smtp_tls_security_level="may", smtp_tls_loglevel="1")
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"]) == ("2.0.0", "sent"), got
    # No CAfile: nothing can be trusted, and "may" does not care.
    assert established(inst, p.port)["kind"] == "Untrusted"
    assert_delivered_over_tls(p)


def test_verify_with_right_name_is_verified(make_instance, dns_server, peer, pki):  # noqa: F811
    p = peer(starttls=True, tls_cert=pki.server)
    dns = dns_server(ZONE)
    inst = make_instance()
    configure(inst, dns, p, smtp_tls_security_level="verify", smtp_tls_CAfile=pki.ca,
              smtp_tls_loglevel="1")
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"]) == ("2.0.0", "sent"), got
    assert established(inst, p.port)["kind"] == "Verified"
    assert_delivered_over_tls(p)


def test_verify_without_trusted_ca_is_not_trusted(make_instance, dns_server, peer, pki):  # noqa: F811
    p = peer(starttls=True, tls_cert=pki.server)
    dns = dns_server(ZONE)
    inst = make_instance()
    configure(inst, dns, p, smtp_tls_security_level="verify", smtp_tls_CAfile=pki.other_ca)
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"], got["text"]) == \
        ("4.7.5", "deferred", "Server certificate not trusted")
    assert_no_mail(p)


@pytest.mark.parametrize("which", ["cert", "pkey", "wrong"])
def test_fingerprint_levels(make_instance, dns_server, peer, pki, which):  # noqa: F811
    p = peer(starttls=True, tls_cert=pki.server)
    dns = dns_server(ZONE)
    inst = make_instance()
    fpr = {"cert": pki.server.cert_fpr, "pkey": pki.server.pkey_fpr, "wrong": pki.wrong.cert_fpr}[which]
    configure(inst, dns, p, smtp_tls_security_level="fingerprint", smtp_tls_fingerprint_digest="sha256",
              smtp_tls_fingerprint_cert_match=fpr, smtp_tls_loglevel="1")
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    if which == "wrong":
        assert (got["dsn"], got["status"], got["text"]) == \
            ("4.7.5", "deferred", "Server certificate not verified")
        assert_no_mail(p)
    else:
        assert (got["dsn"], got["status"]) == ("2.0.0", "sent"), got
        assert established(inst, p.port)["kind"] == "Verified"
        assert_delivered_over_tls(p)


# --- policy table ------------------------------------------------------------

def test_policy_map_requires_tls_for_one_destination(make_instance, dns_server, peer):  # noqa: F811
    p = peer()
    plain = peer()
    dns = dns_server(ZONE)
    inst = make_instance()
    inst.write_file("transport", f"example.com smtp:[{HOST}]:{p.port}\n"
                                 f"other.com smtp:[{HOST}]:{plain.port}\n")
    inst.write_file("tls_policy", f"[{HOST}]:{p.port} encrypt\n")
    configure(inst, dns, p, transport=False, transport_maps=f"texthash:{inst.path}/transport",
              smtp_tls_security_level="may", smtp_tls_policy_maps=f"texthash:{inst.path}/tls_policy")
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"]) == ("4.7.4", "deferred"), got
    assert_no_mail(p)
    # The destination without an entry keeps the default level (may).
    qid = submit(inst, ["carol@other.com"], BODY)
    got = line_for(inst, qid, "carol@other.com")
    assert (got["dsn"], got["status"]) == ("2.0.0", "sent"), got
    assert plain.wait_messages(1)[0].rcpt_to == ["carol@other.com"]


def test_policy_map_none_overrides_default_encrypt(make_instance, dns_server, peer, pki):  # noqa: F811
    p = peer(starttls=True, tls_cert=pki.server)
    dns = dns_server(ZONE)
    inst = make_instance()
    configure(inst, dns, p, smtp_tls_security_level="encrypt",
              smtp_tls_policy_maps=f"inline:{{[{HOST}]:{p.port}=none}}",
              smtp_tls_note_starttls_offer="yes")
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"]) == ("2.0.0", "sent"), got
    msg = p.wait_messages(1)[0]
    assert msg.tls is None and msg.data.endswith(WANT_DATA)
    assert "STARTTLS" not in msg.session.commands
    inst.wait_log(rf"postfix/smtp\[\d+\]: Host offered STARTTLS: \[{re.escape(HOST)}\]$")


def test_bad_policy_entry_defers(make_instance, dns_server, peer):  # noqa: F811
    p = peer()
    dns = dns_server(ZONE)
    inst = make_instance()
    configure(inst, dns, p, smtp_tls_policy_maps=f"inline:{{[{HOST}]:{p.port}=securest}}")
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"], got["text"]) == \
        ("4.7.5", "deferred", "client TLS configuration problem")
    inst.wait_log(r"postfix/smtp\[\d+\]: warning: .*invalid TLS security level: \"securest\"")
    assert p.sessions == []


# --- fallback, wrapper mode, client certificates -----------------------------

def test_may_handshake_failure_then_plaintext(make_instance, dns_server, peer, pki):  # noqa: F811
    p = peer(starttls=True, tls_cert=pki.server, tls_broken=True)
    dns = dns_server(ZONE)
    inst = make_instance()
    # minimal_backoff_time 2s: "deferred before" is judged, as in Postfix,
    # from whole seconds between arrival and activation, so with 1s a new
    # message that arrived just before a second boundary counted as old.
    configure(inst, dns, p, smtp_tls_security_level="may", minimal_backoff_time="2s",
              maximal_backoff_time="2s", queue_run_delay="1s")
    qid = submit(inst, ["bob@example.com"], BODY)
    # First attempt: a new message is deferred, as Postfix does.
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"], got["text"]) == \
        ("4.7.5", "deferred", "Cannot start TLS: handshake failure")
    inst.wait_log(r"postfix/smtp\[\d+\]: SSL_connect error to mx\.example\.test\[127\.0\.0\.1\]:\d+")
    # Once it was deferred, the handshake failure is followed by plaintext.
    m = inst.wait_log(rf"postfix/smtp\[\d+\]: {qid}: to=<bob@example\.com>, .*status=sent", timeout=60)
    assert m
    msg = p.wait_messages(1)[0]
    assert msg.tls is None and msg.data.endswith(WANT_DATA)
    assert "STARTTLS" not in msg.session.commands
    # The session before it on the same attempt tried STARTTLS.
    i = p.sessions.index(msg.session)
    assert "STARTTLS" in p.sessions[i - 1].commands


def test_encrypt_handshake_failure_is_deferred(make_instance, dns_server, peer, pki):  # noqa: F811
    p = peer(starttls=True, tls_cert=pki.server, tls_broken=True)
    dns = dns_server(ZONE)
    inst = make_instance()
    configure(inst, dns, p, smtp_tls_security_level="encrypt")
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"], got["text"]) == \
        ("4.7.5", "deferred", "Cannot start TLS: handshake failure")
    assert_no_mail(p)
    assert len(p.sessions) == 1


def test_wrapper_mode(make_instance, dns_server, peer, pki):  # noqa: F811
    p = peer(wrapper=True, tls_cert=pki.server)
    dns = dns_server(ZONE)
    inst = make_instance()
    configure(inst, dns, p, smtp_tls_wrappermode="yes", smtp_tls_security_level="encrypt",
              smtp_tls_loglevel="1")
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"]) == ("2.0.0", "sent"), got
    established(inst, p.port)
    msg = assert_delivered_over_tls(p)
    assert "STARTTLS" not in msg.session.commands
    assert msg.session.commands[0].startswith("EHLO ")


@pytest.mark.parametrize("form", ["cert_file", "chain_files"])
def test_client_certificate_seen_by_peer(make_instance, dns_server, peer, pki, form):  # noqa: F811
    p = peer(starttls=True, tls_cert=pki.server, tls_ca=pki.ca)
    dns = dns_server(ZONE)
    inst = make_instance()
    # Private keys must be readable by the instance's user.
    if form == "cert_file":
        with open(pki.client.key) as f:
            inst.write_file("client.key", f.read(), mode=0o600)
        creds = {"smtp_tls_cert_file": pki.client.cert, "smtp_tls_key_file": f"{inst.path}/client.key"}
    else:
        with open(pki.client.chain) as f:
            inst.write_file("client.pem", f.read(), mode=0o600)
        creds = {"smtp_tls_chain_files": f"{inst.path}/client.pem"}
    configure(inst, dns, p, smtp_tls_security_level="encrypt", **creds)
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"]) == ("2.0.0", "sent"), got
    msg = assert_delivered_over_tls(p)
    assert msg.tls["peer_cert_der"] == pki.client.cert_der
    assert (("commonName", "client.example.test"),) in msg.tls["peer_cert"]["subject"]


def test_tls_session_is_not_cached(make_instance, dns_server, peer, pki):  # noqa: F811
    p = peer(starttls=True, tls_cert=pki.server)
    dns = dns_server(ZONE)
    inst = make_instance()
    configure(inst, dns, p, smtp_tls_security_level="encrypt",
              smtp_connection_cache_destinations=f"[{HOST}]:{p.port}")
    for rcpt in ("a@example.com", "b@example.com"):
        qid = submit(inst, [rcpt], BODY)
        assert line_for(inst, qid, rcpt)["status"] == "sent"
    msgs = p.wait_messages(2)
    # Each delivery had its own TLS connection, ended with QUIT.
    assert msgs[0].session is not msgs[1].session
    for m in msgs:
        assert m.tls is not None and m.session.commands[-1] == "QUIT"


# --- DANE ----------------------------------------------------------------------

def tlsa(cert):
    """The 3 1 1 TLSA data of a certificate (SHA-256 of its public key)."""
    return hashlib.sha256(cert.pkey_der).hexdigest()


def dane_setup(make_instance, dns_server, peer, pki, zone_cert, signed=True, mx_in_zone=True,
               **params):  # noqa: F811
    """A destination secure.test (plain.test unsigned) whose MX host is
    mx.secure.test (mx_in_zone) or mx.example.test (the name in the
    peer's certificate), with a 3 1 1 TLSA record for ZONE_CERT."""
    p = peer(starttls=True, tls_cert=pki.server)
    zone = "secure.test" if signed else "plain.test"
    host_zone = zone if mx_in_zone else "example.test"
    host_rrs = f"mx A 127.0.0.1\n_{p.port}._tcp.mx IN TLSA 3 1 1 {tlsa(zone_cert)}\n"
    if mx_in_zone:
        zones = {zone: "@ MX 10 mx\n" + host_rrs}
    else:
        zones = {zone: "@ MX 10 mx.example.test.\n", host_zone: host_rrs}
    dns = dns_server(zones, signed=list(zones) if signed else [])
    inst = make_instance()
    settings = {"smtp_dns_support_level": "dnssec", "smtp_tls_security_level": "dane",
                "smtp_tls_loglevel": "1"}
    settings.update(params)
    configure(inst, dns, p, nexthop=f"{zone}:{p.port}", **settings)
    return inst, p, f"mx.{host_zone}"


def test_dane_matching_tlsa_is_verified(make_instance, dns_server, peer, pki):  # noqa: F811
    inst, p, mx = dane_setup(make_instance, dns_server, peer, pki, pki.server, mx_in_zone=False)
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert got["relay"] == f"{mx}[127.0.0.1]:{p.port}"
    assert (got["dsn"], got["status"]) == ("2.0.0", "sent"), got
    inst.wait_log(rf"postfix/smtp\[\d+\]: Verified TLS connection established to "
                  rf"{re.escape(mx)}\[127\.0\.0\.1\]:{p.port}: TLSv1")
    assert_delivered_over_tls(p)


def test_dane_ee_match_ignores_certificate_names(make_instance, dns_server, peer, pki):  # noqa: F811
    # RFC 7672 3.1.1: a DANE-EE(3) match authenticates the server whatever
    # names its certificate holds (mx.example.test here, not mx.secure.test).
    inst, p, mx = dane_setup(make_instance, dns_server, peer, pki, pki.server)
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert got["relay"] == f"mx.secure.test[127.0.0.1]:{p.port}"
    assert (got["dsn"], got["status"]) == ("2.0.0", "sent"), got
    inst.wait_log(rf"postfix/smtp\[\d+\]: Verified TLS connection established to "
                  rf"mx\.secure\.test\[127\.0\.0\.1\]:{p.port}: TLSv1")
    assert_delivered_over_tls(p)


def test_dane_non_matching_tlsa_is_deferred(make_instance, dns_server, peer, pki):  # noqa: F811
    inst, p, mx = dane_setup(make_instance, dns_server, peer, pki, pki.wrong)
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"], got["text"]) == \
        ("4.7.5", "deferred", "Server certificate not trusted")
    assert_no_mail(p)


def test_dane_unsigned_zone_is_opportunistic(make_instance, dns_server, peer, pki):  # noqa: F811
    # The TLSA record would not match, but without DNSSEC it does not count.
    inst, p, mx = dane_setup(make_instance, dns_server, peer, pki, pki.wrong, signed=False)
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"]) == ("2.0.0", "sent"), got
    inst.wait_log(rf"postfix/smtp\[\d+\]: Untrusted TLS connection established to "
                  rf"mx\.plain\.test\[127\.0\.0\.1\]:{p.port}: TLSv1")
    assert_delivered_over_tls(p)


def test_dane_only_unsigned_zone_is_deferred(make_instance, dns_server, peer, pki):  # noqa: F811
    inst, p, mx = dane_setup(make_instance, dns_server, peer, pki, pki.server, signed=False,
                               smtp_tls_security_level="dane-only")
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert (got["dsn"], got["status"], got["text"]) == \
        ("4.7.5", "deferred", "non DNSSEC destination")
    assert p.sessions == []


# --- interoperability with Debian Postfix as TLS server -------------------------

def test_postfix_smtpd_receives_over_starttls(make_instance, pki):
    from postfix_system import PostfixSystem
    work = tempfile.mkdtemp(prefix="postern-interop-tls-")
    pf = PostfixSystem(work, hostname="pf.example.test")
    try:
        pf.configure({"mydestination": "remote.test", "local_recipient_maps": "",
                      "local_transport": "discard:received by postfix",
                      "smtpd_tls_security_level": "may", "smtpd_tls_cert_file": pki.server.cert,
                      "smtpd_tls_key_file": pki.server.key, "smtpd_tls_loglevel": "1",
                      "header_checks": "regexp:{{/^Received: / WARN seen}}"})
        pf.start()
        inst = make_instance()
        inst.settings.update({"relayhost": f"[127.0.0.1]:{pf.port}", "smtp_tls_security_level": "encrypt",
                              "smtp_tls_loglevel": "1"})
        inst.write_main_cf("")
        inst.start()
        qid = submit(inst, ["bob@remote.test"], BODY)
        m = inst.wait_log(rf"{qid}: to=<bob@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{pf.port}, "
                          rf".*dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as ([0-9A-F]+)\)", timeout=30)
        pf_qid = m.group(1)
        inst.wait_log(rf"postfix/smtp\[\d+\]: \w+ TLS connection established to "
                      rf"127\.0\.0\.1\[127\.0\.0\.1\]:{pf.port}: TLSv1")
        pf.wait_log(r"postfix/smtpd\[\d+\]: \w+ TLS connection established from \S+\[127\.0\.0\.1\]: TLSv1")
        # Postfix's cleanup saw its own Received: header say ESMTPS.
        pf.wait_log(rf"{pf_qid}: warning: header Received: from mail\.example\.com \(localhost \[127\.0\.0\.1\]\)"
                    rf".*by pf\.example\.test \(Postfix\) with ESMTPS id {pf_qid}.*: seen$")
        pf.wait_log(rf"{pf_qid}: from=<{re.escape(SENDER)}>, size=\d+, nrcpt=1")
    finally:
        pf.close()
        shutil.rmtree(work, ignore_errors=True)


# --- LMTP reads the lmtp_tls_* twins ------------------------------------------

@pytest.mark.parametrize("level", ["encrypt", "may"])
def test_lmtp_tls_twins(make_instance, dns_server, peer, pki, level):  # noqa: F811
    p = peer(lmtp=True)
    dns = dns_server(ZONE)
    inst = make_instance()
    # smtp_tls_security_level does not apply to lmtp; lmtp_tls_security_level does.
    configure(inst, dns, p, nexthop=None, transport=False,
              transport_maps=f"inline:{{example.com=lmtp:inet:{HOST}:{p.port}}}",
              smtp_tls_security_level="none" if level == "encrypt" else "encrypt",
              lmtp_tls_security_level=level)
    qid = submit(inst, ["bob@example.com"], BODY)
    got = line_for(inst, qid, "bob@example.com")
    assert got["relay"] == f"{HOST}[127.0.0.1]:{p.port}"
    if level == "encrypt":
        assert (got["dsn"], got["status"], got["text"]) == \
            ("4.7.4", "deferred", f"TLS is required, but was not offered by host {HOST}[127.0.0.1]")
        assert_no_mail(p)
    else:
        assert (got["dsn"], got["status"]) == ("2.0.0", "sent"), got
        assert p.wait_messages(1)[0].tls is None
