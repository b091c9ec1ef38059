"""End-to-end tests of TLS in the SMTP server (spec/security.md 7 and the
acceptance checks 1-7, 20 and 21 of section 11).

Real peers only: Python's ssl module over the raw SMTP dialogue
(smtpchat.py), smtplib's starttls(), `openssl s_client -starttls smtp`,
swaks --tls, and Debian's Postfix relaying to Postern with
smtp_tls_security_level = encrypt. Keys and certificates come from the
test PKI (tlscerts.py); they are copied into the instance's config
directory so that the unprivileged instance can read them. Accepted
messages stay in incoming/ (no qmgr) and are read back with postcat.
"""

import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile

import pytest

import postern
import tlscerts
from smtpchat import SmtpChat

HOST = "mx.example.test"
BANNER = f"220 {HOST} ESMTP Postern"
QID = r"[0-9A-Za-z]+"

BASE_CF = {
    "mydestination": "$myhostname, localhost, example.test",
    "mynetworks": "127.0.0.1/32",
    "alias_maps": "",
    "local_recipient_maps": "inline:{alice=1, bob=1}",
    "smtpd_tls_loglevel": "1",
}


@pytest.fixture(scope="module")
def pki():
    return tlscerts.pki()


def master_cf(inst, extra=""):
    """The stock master.cf without qmgr (messages stay in incoming/)."""
    return "".join(line + "\n" for line in inst.default_master_cf().splitlines()
                   if not line.startswith("qmgr ")) + extra


class Mx:
    """start(**main_cf) -> a running instance; .files(cert) copies PEM files."""

    def __init__(self, make_instance, pki):
        self.make_instance = make_instance
        self.pki = pki

    def start(self, master_extra="", certs=("server",), **extra):
        inst = self.make_instance(hostname=HOST)
        settings = dict(BASE_CF)
        chains = [self.copy(inst, getattr(self.pki, c).chain) for c in certs]
        if chains:
            settings["smtpd_tls_chain_files"] = ", ".join(chains)
        settings["smtpd_tls_CAfile"] = self.copy(inst, self.pki.ca)
        settings.update(extra)
        inst.write_main_cf(settings)
        inst.write_master_cf(master_cf(inst, master_extra))
        inst.start()
        return inst

    @staticmethod
    def reconfigure(inst, **changes):
        """Stop INST, change main.cf settings, start it again."""
        inst.stop()
        inst.update_main_cf(changes)
        inst.start()

    @staticmethod
    def copy(inst, path):
        """PATH copied into the instance's config directory (readable by it)."""
        with open(path, "rb") as f:
            return inst.write_file(os.path.basename(path), f.read(), mode=0o600)


@pytest.fixture
def mx(make_instance, pki):
    return Mx(make_instance, pki)


def client_context(pki, cert=None, **kw):
    """A TLS client context that trusts the test CA (and presents CERT)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.ca)
    if cert is not None:
        ctx.load_cert_chain(cert.cert, cert.key)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def connect(inst, source="127.0.0.1", port=None):
    c = SmtpChat(port or inst.smtp_port, source=source, timeout=20)
    assert c.greeting_lines == [BANNER]
    return c


def starttls(c, pki, cert=None):
    """STARTTLS, then the handshake on the same socket."""
    assert c.one("STARTTLS") == "220 2.0.0 Ready to start TLS"
    assert c.buf == b""
    c.sock = client_context(pki, cert).wrap_socket(c.sock, server_hostname=HOST)
    return c.sock


def ehlo_keywords(c):
    return [line[4:] for line in c.lines("EHLO c.test")]


def connect_tls(inst, pki, cert, source="127.0.0.1"):
    """Connect, EHLO, STARTTLS with CERT (or none), EHLO again."""
    c = connect(inst, source)
    ehlo_keywords(c)
    starttls(c, pki, cert)
    ehlo_keywords(c)
    return c


def transaction(c, rcpt="alice@example.test", sender="a@example.test"):
    assert c.one(f"MAIL FROM:<{sender}>") == "250 2.1.0 Ok"
    assert c.one(f"RCPT TO:<{rcpt}>") == "250 2.1.5 Ok"
    assert c.one("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send("Subject: tls\r\n\r\nover tls\r\n.\r\n")
    reply = c.reply_lines()
    m = re.fullmatch(rf"250 2\.0\.0 Ok: queued as ({QID})", reply[0])
    assert m, reply
    return m.group(1)


def headers(inst, qid):
    return inst.postcat(qid, "-h")


def received(inst, qid):
    """The Received: header Postern wrote (first header, unfolded lines)."""
    text = headers(inst, qid)
    lines = text.splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        if not line[:1].isspace():
            break
        out.append(line)
    return out


# --- acceptance checks 1, 21 and the log line -------------------------------

def test_starttls_may(mx, pki):
    inst = mx.start(smtpd_tls_security_level="may", smtpd_tls_received_header="yes")
    c = connect(inst)
    kw = ehlo_keywords(c)
    assert "STARTTLS" in kw
    assert kw.index("STARTTLS") < kw.index("ENHANCEDSTATUSCODES")
    tls = starttls(c, pki)
    assert tls.version().startswith("TLSv1.")
    kw = ehlo_keywords(c)
    assert "STARTTLS" not in kw and "ENHANCEDSTATUSCODES" in kw
    assert c.one("STARTTLS") == "554 5.5.1 Error: TLS already active"
    qid = transaction(c)
    assert c.one("QUIT") == "221 2.0.0 Bye"
    version, cipher = tls.version(), tls.cipher()[0]
    inst.wait_log(rf"Anonymous TLS connection established from localhost\[127\.0\.0\.1\]: "
                  rf"{re.escape(version)} with cipher {re.escape(cipher)} \(\d+/\d+ bits\)")
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=2 starttls=1/2 mail=1 rcpt=1 "
                  r"data=1 quit=1 commands=7/8$")
    rec = received(inst, qid)
    assert rec[0] == "Received: from c.test (localhost [127.0.0.1])"
    # As Postfix 3.7 writes it (TLSv1.3: the key-exchange line closes the comment).
    assert rec[1] == f"\t(using {version} with cipher {cipher} (256/256 bits)"
    assert re.fullmatch(r"\t key-exchange X25519 server-signature RSA-PSS \(2048 bits\) "
                        r"server-digest SHA256\)", rec[2]), rec
    assert rec[3] == "\t(No client certificate requested)"
    assert re.fullmatch(rf"\tby {HOST} \(Postern\) with ESMTPS id {qid}", rec[4])


def test_received_without_tls_header(mx, pki):
    inst = mx.start(smtpd_tls_security_level="may")
    c = connect(inst)
    ehlo_keywords(c)
    starttls(c, pki)
    ehlo_keywords(c)
    qid = transaction(c)
    rec = received(inst, qid)
    assert rec[0] == "Received: from c.test (localhost [127.0.0.1])"
    assert re.fullmatch(rf"\tby {HOST} \(Postern\) with ESMTPS id {qid}", rec[1])


# --- check 2 -------------------------------------------------------------

def test_starttls_syntax_and_level_none(mx, pki):
    inst = mx.start(smtpd_tls_security_level="may")
    c = connect(inst)
    ehlo_keywords(c)
    assert c.one("STARTTLS extra") == "501 5.5.4 Syntax: STARTTLS"
    mx.reconfigure(inst, smtpd_tls_security_level="none")
    c = connect(inst)
    assert "STARTTLS" not in ehlo_keywords(c)
    assert c.one("STARTTLS") == "502 5.5.1 Error: command not implemented"
    assert c.one("NOOP") == "250 2.0.0 Ok"


# --- check 3: the command-injection defence ------------------------------

def test_starttls_injection_discarded(mx, pki):
    inst = mx.start(smtpd_tls_security_level="may")
    c = connect(inst)
    ehlo_keywords(c)
    c.send("STARTTLS\r\nRSET\r\n")
    assert c.reply_lines() == ["220 2.0.0 Ready to start TLS"]
    assert c.buf == b""
    c.sock = client_context(pki).wrap_socket(c.sock, server_hostname=HOST)
    # The first reply inside TLS answers our EHLO, not the injected RSET.
    assert c.lines("EHLO c.test")[0] == f"250-{HOST}"
    assert c.one("QUIT") == "221 2.0.0 Bye"
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=2 starttls=1 quit=1 commands=4$")


# --- check 4: state is forgotten ----------------------------------------

def test_state_forgotten_after_starttls(mx, pki):
    inst = mx.start(smtpd_tls_security_level="may", smtpd_helo_required="yes")
    c = connect(inst)
    ehlo_keywords(c)
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    starttls(c, pki)
    assert c.one("MAIL FROM:<a@example.test>") == "503 5.5.1 Error: send HELO/EHLO first"
    ehlo_keywords(c)
    assert c.one("RCPT TO:<alice@example.test>") == "503 5.5.1 Error: need MAIL command"


# --- check 5: level encrypt -------------------------------------------------

def test_encrypt_requires_starttls(mx, pki):
    inst = mx.start(smtpd_tls_security_level="encrypt")
    c = connect(inst)
    assert "STARTTLS" in ehlo_keywords(c)
    must = "530 5.7.0 Must issue a STARTTLS command first"
    assert c.one("MAIL FROM:<a@example.test>") == must
    for cmd in ("RCPT TO:<alice@example.test>", "DATA", "RSET", "VRFY alice", "ETRN example.test",
                "AUTH PLAIN AGFsaWNlAHNlY3JldA==", "XFORWARD NAME=x.test"):
        assert c.one(cmd) == must, cmd
    assert c.one("NOOP") == "250 2.0.0 Ok"
    assert c.one("HELP").startswith("214 ")
    assert c.one("HELO c.test") == f"250 {HOST}"
    starttls(c, pki)
    ehlo_keywords(c)
    transaction(c)


def test_obsolete_enforce_tls(mx, pki):
    inst = mx.start(smtpd_enforce_tls="yes")
    c = connect(inst)
    assert "STARTTLS" in ehlo_keywords(c)
    assert c.one("MAIL FROM:<a@example.test>") == "530 5.7.0 Must issue a STARTTLS command first"
    starttls(c, pki)
    ehlo_keywords(c)
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"


def test_unsupported_level_is_encrypt(mx, pki):
    inst = mx.start(smtpd_tls_security_level="verify")
    c = connect(inst)
    ehlo_keywords(c)
    assert c.one("MAIL FROM:<a@example.test>") == "530 5.7.0 Must issue a STARTTLS command first"
    inst.wait_log(r'warning: smtpd_tls_security_level: unsupported TLS level "verify", using "encrypt"')


# --- check 6: no usable key --------------------------------------------------

def test_missing_chain_file(mx, pki, tmp_path):
    inst = mx.start(certs=(), smtpd_tls_security_level="may",
                    smtpd_tls_chain_files=str(tmp_path / "missing.pem"))
    c = connect(inst)
    assert "STARTTLS" in ehlo_keywords(c)
    assert c.one("STARTTLS") == "454 4.7.0 TLS not available due to local problem"
    assert c.one("NOOP") == "250 2.0.0 Ok"
    transaction(c)


def test_no_certificate_configured(mx, pki):
    inst = mx.start(certs=(), smtpd_tls_security_level="may")
    c = connect(inst)
    assert "STARTTLS" in ehlo_keywords(c)
    assert c.one("STARTTLS") == "454 4.7.0 TLS not available due to local problem"
    assert c.one("NOOP") == "250 2.0.0 Ok"
    inst.wait_log(r"warning: No server certs available\. TLS won't be enabled")


# --- check 7: wrapper mode (submissions) ------------------------------------

class WrappedChat(SmtpChat):
    """An SmtpChat whose connection is TLS from the first byte."""

    def __init__(self, port, ctx, timeout=20):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname=HOST)
        self.timeout = timeout
        self.buf = b""
        self.greeting_lines = self.reply_lines()


def test_submissions_wrapper_mode(mx, pki):
    port = postern.free_port()
    inst = mx.start(master_extra=f"127.0.0.1:{port} inet n - n - - smtpd\n"
                                 f"  -o syslog_name=postfix/submissions\n"
                                 f"  -o smtpd_tls_wrappermode=yes\n")
    # A plaintext client gets no banner; its EHLO ends the handshake.
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"EHLO c.test\r\n")
        data = b""
        while True:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        assert b"220" not in data and b"ESMTP" not in data
    inst.wait_log(r"postfix/submissions/smtpd\[\d+\]: SSL_accept error from localhost\[127\.0\.0\.1\]")
    inst.wait_log(r"postfix/submissions/smtpd\[\d+\]: lost connection after CONNECT from localhost\[127\.0\.0\.1\]")
    c = WrappedChat(port, client_context(pki))
    assert c.greeting_lines == [BANNER]
    kw = ehlo_keywords(c)
    assert "STARTTLS" not in kw
    assert c.one("STARTTLS") == "554 5.5.1 Error: TLS already active"
    qid = transaction(c)
    assert re.search(rf"with ESMTPS id {qid}", headers(inst, qid))
    # The ordinary smtp service of the same instance stays plaintext.
    c = connect(inst)
    assert "STARTTLS" not in ehlo_keywords(c)


def test_wrapper_mode_new_tls_session_rate_limit(mx, pki):
    """The same limit in wrapper mode: the session that goes over it is
    dropped after its handshake, before the greeting; later connections
    are closed before the handshake ("Refusing TLS service request")."""
    port = postern.free_port()
    inst = mx.start(master_extra=f"127.0.0.1:{port} inet n - n - - smtpd\n"
                                 f"  -o smtpd_tls_wrappermode=yes\n",
                    smtpd_client_new_tls_session_rate_limit="1", smtpd_client_event_limit_exceptions="")
    ctx = client_context(pki)
    c = WrappedChat(port, ctx)
    assert c.greeting_lines == [BANNER]
    c.one("QUIT")
    with pytest.raises((OSError, EOFError)):
        WrappedChat(port, ctx, timeout=5)  # handshake, then closed: no greeting
    with pytest.raises(OSError):  # closed before the handshake
        ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname=HOST)
    service = re.escape(f"127.0.0.1:{port}")
    inst.wait_log(rf"warning: Refusing TLS service request from localhost\[127\.0\.0\.1\] for service {service}$")
    assert re.search(rf"warning: New TLS session rate limit exceeded: 2 from localhost\[127\.0\.0\.1\] "
                     rf"for service {service}$", inst.log(), re.M)


# --- check 20: client certificates -------------------------------------------

RELAY = "permit_mynetworks, permit_tls_clientcerts, reject_unauth_destination"


def test_relay_clientcerts(mx, pki):
    inst = mx.start(smtpd_tls_security_level="may", smtpd_tls_ask_ccert="yes",
                    smtpd_tls_received_header="yes",
                    relay_clientcerts=f"inline:{{{pki.client.cert_fpr}=test}}",
                    smtpd_relay_restrictions=RELAY)
    # Without TLS the restriction is DUNNO: relay denied.
    c = connect(inst, "127.0.0.2")
    ehlo_keywords(c)
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<u@remote.test>") == "554 5.7.1 <u@remote.test>: Relay access denied"
    # The listed certificate may relay.
    c = connect_tls(inst, pki, pki.client, source="127.0.0.2")
    qid = transaction(c, rcpt="u@remote.test")
    rec = received(inst, qid)
    assert rec[-3] == '\t(Client CN "client.example.test", Issuer "Postern Test CA" (verified OK))'
    inst.wait_log(r"Trusted TLS connection established from \S+\[127\.0\.0\.2\]|"
                  r"Verified TLS connection established from \S+\[127\.0\.0\.2\]")
    # Another certificate may not.
    c = connect_tls(inst, pki, pki.other_client, source="127.0.0.2")
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<u@remote.test>") == "554 5.7.1 <u@remote.test>: Relay access denied"
    # No certificate at all, though one was asked for.
    c = connect(inst, "127.0.0.2")
    ehlo_keywords(c)
    starttls(c, pki)
    ehlo_keywords(c)
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<u@remote.test>") == "554 5.7.1 <u@remote.test>: Relay access denied"
    assert c.one("RSET") == "250 2.0.0 Ok"
    qid = transaction(c)
    assert received(inst, qid)[-3] == "\t(Client did not present a certificate)"


def test_relay_clientcerts_pubkey_and_untrusted(mx, pki):
    # The public-key fingerprint works too, and the issuer need not be trusted.
    inst = mx.start(smtpd_tls_security_level="may", smtpd_tls_ask_ccert="yes",
                    smtpd_tls_CAfile="", smtpd_tls_received_header="yes",
                    relay_clientcerts=f"inline:{{{pki.client.pkey_fpr}=test}}",
                    smtpd_relay_restrictions=RELAY)
    c = connect_tls(inst, pki, pki.client, source="127.0.0.2")
    qid = transaction(c, rcpt="u@remote.test")
    assert received(inst, qid)[-3] == \
        '\t(Client CN "client.example.test", Issuer "Postern Test CA" (not verified))'
    inst.wait_log(r"Untrusted TLS connection established from \S+\[127\.0\.0\.2\]")


def test_permit_tls_all_clientcerts(mx, pki):
    inst = mx.start(smtpd_tls_security_level="may", smtpd_tls_ask_ccert="yes",
                    smtpd_relay_restrictions="permit_mynetworks, permit_tls_all_clientcerts, "
                                             "reject_unauth_destination")
    c = connect_tls(inst, pki, pki.other_client, source="127.0.0.2")
    transaction(c, rcpt="u@remote.test")


def test_clientcerts_need_ask_ccert(mx, pki):
    inst = mx.start(smtpd_tls_security_level="may",
                    relay_clientcerts=f"inline:{{{pki.client.cert_fpr}=test}}",
                    smtpd_relay_restrictions=RELAY)
    c = connect_tls(inst, pki, pki.client, source="127.0.0.2")
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<u@remote.test>") == "554 5.7.1 <u@remote.test>: Relay access denied"
    inst.wait_log(r'warning: permit_tls_clientcerts is requested, but "smtpd_tls_ask_ccert = no"')


def test_check_ccert_access(mx, pki):
    table = (f"inline:{{{pki.client.cert_fpr}=OK, "
             f"{{{pki.other_client.cert_fpr}=REJECT not this one}}}}")
    inst = mx.start(smtpd_tls_security_level="may", smtpd_tls_ask_ccert="yes",
                    smtpd_relay_restrictions=f"permit_mynetworks, check_ccert_access {table}, "
                                             "reject_unauth_destination")
    c = connect_tls(inst, pki, pki.client, source="127.0.0.2")
    transaction(c, rcpt="u@remote.test")
    c = connect_tls(inst, pki, pki.other_client, source="127.0.0.2")
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<u@remote.test>") == \
        "554 5.7.1 <other.example.test>: Client certificate rejected: not this one"


def test_check_ccert_access_search_order(mx, pki):
    # Only the public-key fingerprint is searched: the certificate
    # fingerprint entry is ignored.
    table = (f"inline:{{{{{pki.client.cert_fpr}=REJECT by cert}}, "
             f"{pki.client.pkey_fpr}=OK}}")
    arg = f"{{ {table}, {{ search_order = pubkey_fingerprint }} }}"
    inst = mx.start(smtpd_tls_security_level="may", smtpd_tls_ask_ccert="yes",
                    smtpd_relay_restrictions=f"permit_mynetworks, check_ccert_access {arg}, "
                                             "reject_unauth_destination")
    c = connect_tls(inst, pki, pki.client, source="127.0.0.2")
    transaction(c, rcpt="u@remote.test")
    # The default order finds the certificate fingerprint first.
    mx.reconfigure(inst, smtpd_relay_restrictions=f"permit_mynetworks, check_ccert_access {table}, "
                                                  "reject_unauth_destination")
    c = connect_tls(inst, pki, pki.client, source="127.0.0.2")
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<u@remote.test>") == \
        "554 5.7.1 <client.example.test>: Client certificate rejected: by cert"


# --- certificates, protocols, resumption with openssl s_client -------------------

def s_client(port, *args, stdin=b"QUIT\r\n"):
    r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{port}",
                        "-servername", HOST, "-nocommands", "-ign_eof", *args],
                       input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace")


def test_ecdsa_only(mx, pki):
    inst = mx.start(certs=("server_ec",), smtpd_tls_security_level="may")
    rc, out = s_client(inst.smtp_port, "-CAfile", pki.ca, "-verify_return_error")
    assert rc == 0, out
    assert "Peer signature type: ECDSA" in out
    assert "Verify return code: 0 (ok)" in out
    assert "221 2.0.0 Bye" in out


def test_rsa_and_ecdsa_chain_files(mx, pki):
    inst = mx.start(certs=("server_ec", "server"), smtpd_tls_security_level="may")
    rc, out = s_client(inst.smtp_port, "-CAfile", pki.ca, "-sigalgs", "ECDSA+SHA256")
    assert rc == 0 and "Peer signature type: ECDSA" in out, out
    rc, out = s_client(inst.smtp_port, "-CAfile", pki.ca, "-sigalgs", "RSA-PSS+SHA256")
    assert rc == 0 and "Peer signature type: RSA-PSS" in out, out
    assert "Verify return code: 0 (ok)" in out


def test_legacy_cert_and_key_files(mx, pki):
    inst = mx.start(certs=(), smtpd_tls_security_level="may")
    cert = Mx.copy(inst, pki.server.cert)
    key = Mx.copy(inst, pki.server.key)
    mx.reconfigure(inst, smtpd_tls_cert_file=cert, smtpd_tls_key_file=key)
    rc, out = s_client(inst.smtp_port, "-CAfile", pki.ca)
    assert rc == 0 and "subject=O = Postern Tests, CN = mx.example.test" in out, out


def test_protocol_restriction(mx, pki):
    inst = mx.start(smtpd_tls_security_level="may", smtpd_tls_protocols=">=TLSv1.3")
    mark = inst.log_mark()
    rc, out = s_client(inst.smtp_port, "-tls1_2")
    assert rc != 0 and "Cipher is (NONE)" in out, out
    inst.wait_log(r"SSL_accept error from localhost\[127\.0\.0\.1\]", since=mark)
    inst.wait_log(r"lost connection after STARTTLS from localhost\[127\.0\.0\.1\]", since=mark)
    rc, out = s_client(inst.smtp_port, "-tls1_3")
    assert rc == 0 and "New, TLSv1.3, Cipher is" in out, out


def test_mandatory_protocols_at_encrypt(mx, pki):
    # At encrypt the mandatory list applies, not smtpd_tls_protocols.
    inst = mx.start(smtpd_tls_security_level="encrypt", smtpd_tls_protocols=">=TLSv1",
                    smtpd_tls_mandatory_protocols=">=TLSv1.3")
    rc, out = s_client(inst.smtp_port, "-tls1_2")
    assert rc != 0, out
    rc, out = s_client(inst.smtp_port, "-tls1_3")
    assert rc == 0, out


def test_session_resumption(mx, pki, tmp_path):
    inst = mx.start(smtpd_tls_security_level="may")
    sess = str(tmp_path / "sess.pem")
    rc, out = s_client(inst.smtp_port, "-sess_out", sess)
    assert rc == 0 and "New, TLSv1.3" in out, out
    # Hold the idle smtpd process, so another process must resume the
    # session (the ticket key is shared between processes).
    holder = connect(inst)
    rc, out = s_client(inst.smtp_port, "-sess_in", sess)
    assert rc == 0 and "Reused, TLSv1.3" in out, out
    holder.close()
    pids = re.findall(r"smtpd\[(\d+)\]: Anonymous TLS connection established", inst.log())
    assert len(pids) == 2 and pids[0] != pids[1], pids


def tls_session(inst, ctx, session=None):
    """Connect, EHLO, STARTTLS with client context CTX (resuming SESSION
    if given): (chat, its reply to STARTTLS, the TLS socket or None)."""
    c = connect(inst)
    ehlo_keywords(c)
    reply = c.one("STARTTLS")
    if not reply.startswith("220"):
        return c, reply, None
    c.sock = ctx.wrap_socket(c.sock, server_hostname=HOST, session=session)
    return c, reply, c.sock


def test_new_tls_session_rate_limit(mx, pki):
    """As Postfix: the limit is checked before the handshake without
    counting; a new session is counted after it, and the one that goes
    over the limit is dropped right after its handshake; later STARTTLS
    commands get 454; resumed sessions are not counted."""
    inst = mx.start(smtpd_tls_security_level="may", smtpd_client_new_tls_session_rate_limit="2",
                    smtpd_client_event_limit_exceptions="")
    ctx = client_context(pki, maximum_version=ssl.TLSVersion.TLSv1_2)  # TLS 1.2: the session is known at once
    first, reply, sock = tls_session(inst, ctx)
    assert reply == "220 2.0.0 Ready to start TLS" and not sock.session_reused
    session = sock.session
    ehlo_keywords(first)
    first.one("QUIT")
    for _ in range(3):  # resumed: never counted
        c, reply, sock = tls_session(inst, ctx, session)
        assert reply == "220 2.0.0 Ready to start TLS" and sock.session_reused
        assert "PIPELINING" in ehlo_keywords(c)
        c.one("QUIT")
    c, reply, sock = tls_session(inst, ctx)  # the second new session
    assert reply == "220 2.0.0 Ready to start TLS" and not sock.session_reused
    assert "PIPELINING" in ehlo_keywords(c)
    c.one("QUIT")
    c, reply, sock = tls_session(inst, ctx)  # the third: handshake, then dropped
    assert reply == "220 2.0.0 Ready to start TLS" and not sock.session_reused
    assert c.closed()
    c, reply, sock = tls_session(inst, ctx, session)  # over the limit: refused, resumable or not
    assert reply == "454 4.7.0 Error: too many new TLS sessions from localhost[127.0.0.1]"
    assert c.one("QUIT") == "221 2.0.0 Bye"
    inst.wait_log(r"Refusing STARTTLS request")
    log = inst.log()
    service = f"127.0.0.1:{inst.smtp_port}"
    assert re.search(r"warning: New TLS session rate limit exceeded: 3 from localhost\[127\.0\.0\.1\] "
                     rf"for service {re.escape(service)}\n", log), log
    assert re.search(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 starttls=0/1 commands=1/2\n", log), log
    assert re.search(r"warning: Refusing STARTTLS request from localhost\[127\.0\.0\.1\] "
                     rf"for service {re.escape(service)}\n", log), log
    assert len(re.findall(r"rate limit exceeded", log)) == 1


# --- other real clients ---------------------------------------------------------

def test_smtplib_starttls(mx, pki):
    inst = mx.start(smtpd_tls_security_level="encrypt", smtpd_tls_received_header="yes")
    import smtplib
    # "localhost" is a subjectAltName of the server certificate.
    with smtplib.SMTP("localhost", inst.smtp_port, timeout=30) as s:
        s.ehlo("py.test")
        assert s.has_extn("starttls")
        code, text = s.starttls(context=client_context(pki))
        assert (code, text) == (220, b"2.0.0 Ready to start TLS")
        s.ehlo("py.test")
        assert not s.has_extn("starttls")
        refused = s.sendmail("a@example.test", ["bob@example.test"],
                             b"Subject: smtplib\r\n\r\nvia smtplib starttls\r\n")
        assert refused == {}
    m = inst.wait_log(rf"({QID}): client=localhost\[127\.0\.0\.1\]")
    qid = m.group(1)
    text = inst.postcat(qid, "-h", "-b")
    assert "(No client certificate requested)" in text
    assert "via smtplib starttls" in text


def test_swaks_tls(mx, pki):
    inst = mx.start(smtpd_tls_security_level="may")
    r = subprocess.run(["swaks", "-4", "--server", "localhost", "--port", str(inst.smtp_port), "--tls",
                        "--tls-verify", "--tls-ca-path", pki.ca,
                        "--ehlo", "swaks.test", "--from", "a@example.test", "--to", "alice@example.test",
                        "--body", "via swaks"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out
    assert "<-  220 2.0.0 Ready to start TLS" in out
    m = re.search(rf"<~  250 2\.0\.0 Ok: queued as ({QID})", out)
    assert m, out
    assert "with ESMTPS id " + m.group(1) in inst.postcat(m.group(1), "-h")


@pytest.fixture
def postfix():
    from postfix_system import PostfixSystem
    work = tempfile.mkdtemp(prefix="postern-tls-interop-")
    pf = PostfixSystem(work, hostname="pf.example.test")
    yield pf
    pf.close()
    shutil.rmtree(work, ignore_errors=True)


def test_postfix_relays_over_tls(mx, pki, postfix):
    inst = mx.start(smtpd_tls_security_level="encrypt", smtpd_tls_received_header="yes")
    postfix.configure({"relayhost": f"[127.0.0.1]:{inst.smtp_port}", "mydestination": "",
                       "smtp_tls_security_level": "encrypt", "smtp_tls_loglevel": "1",
                       "smtp_tls_CAfile": pki.ca})
    postfix.start()
    postfix.sendmail("carol@pf.example.test", ["alice@example.test"],
                     "Subject: from postfix\n\nhello over tls\n")
    postfix.wait_log(rf"Trusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:{inst.smtp_port}: "
                     r"TLSv1\.3 with cipher", timeout=30)
    m = postfix.wait_log(rf"to=<alice@example\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{inst.smtp_port}, "
                         rf".*status=sent \(250 2\.0\.0 Ok: queued as ({QID})\)", timeout=30)
    qid = m.group(1)
    inst.wait_log(r"Anonymous TLS connection established from localhost\[127\.0\.0\.1\]: TLSv1\.3")
    text = inst.postcat(qid, "-h", "-b")
    assert "\t(using TLSv1.3 with cipher " in text
    assert re.search(rf"\tby {HOST} \(Postern\) with ESMTPS id {qid}", text)
    assert "hello over tls" in text


# --- more: required client certificates, wrapper mode with swaks, policy -------

def test_req_ccert_at_encrypt(mx, pki):
    inst = mx.start(smtpd_tls_security_level="encrypt", smtpd_tls_req_ccert="yes")
    # A client with a certificate from the trusted CA gets through.
    c = connect(inst)
    ehlo_keywords(c)
    starttls(c, pki, pki.client)
    assert c.lines("EHLO c.test")[0] == f"250-{HOST}"
    # Without one the handshake fails and the session ends.
    mark = inst.log_mark()
    c = connect(inst)
    ehlo_keywords(c)
    with pytest.raises((ssl.SSLError, EOFError, ConnectionResetError)):
        starttls(c, pki)
        c.lines("EHLO c.test")
    inst.wait_log(r"lost connection after STARTTLS from localhost\[127\.0\.0\.1\]", since=mark)


def test_swaks_wrapper_mode(mx, pki):
    port = postern.free_port()
    inst = mx.start(master_extra=f"127.0.0.1:{port} inet n - n - - smtpd\n"
                                 f"  -o smtpd_tls_wrappermode=yes\n")
    r = subprocess.run(["swaks", "-4", "--server", "localhost", "--port", str(port), "--tls-on-connect",
                        "--tls-verify", "--tls-ca-path", pki.ca, "--ehlo", "swaks.test",
                        "--from", "a@example.test", "--to", "bob@example.test", "--body", "wrapped"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out
    assert f"<~  {BANNER}" in out
    assert "STARTTLS" not in out
    assert re.search(rf"<~  250 2\.0\.0 Ok: queued as {QID}", out), out


def test_malformed_search_order(mx, pki):
    arg = "{ inline:{x=OK}, { search_order = cert_fingerprint, bogus } }"
    inst = mx.start(smtpd_tls_security_level="may", smtpd_tls_ask_ccert="yes",
                    smtpd_relay_restrictions=f"permit_mynetworks, check_ccert_access {arg}, "
                                             "reject_unauth_destination")
    c = connect(inst, "127.0.0.2")
    ehlo_keywords(c)
    # Without TLS the restriction is not even evaluated.
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<u@remote.test>") == "554 5.7.1 <u@remote.test>: Relay access denied"
    c = connect_tls(inst, pki, pki.client, source="127.0.0.2")
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<u@remote.test>") == "451 4.3.5 Server configuration error"
    inst.wait_log(r'warning: check_ccert_access: malformed argument ".*": unknown search_order value')


def test_policy_gets_tls_attributes(mx, pki):
    from policyd import PolicyServer
    server = PolicyServer()
    try:
        inst = mx.start(smtpd_tls_security_level="may", smtpd_tls_ask_ccert="yes",
                        smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination",
                        smtpd_recipient_restrictions=f"check_policy_service {server.endpoint}")
        c = connect(inst)
        ehlo_keywords(c)
        tls = starttls(c, pki, pki.client)
        ehlo_keywords(c)
        transaction(c)
        req = server.requests[0]
        assert req["encryption_protocol"] == tls.version()
        assert req["encryption_cipher"] == tls.cipher()[0]
        assert req["encryption_keysize"] == str(tls.cipher()[2])
        assert req["ccert_subject"] == "client.example.test"
        assert req["ccert_issuer"] == "Postern Test CA"
        assert req["ccert_fingerprint"] == pki.client.cert_fpr
        assert req["ccert_pubkey_fingerprint"] == pki.client.pkey_fpr
    finally:
        server.close()


def test_discarded_starttls_keyword(mx, pki):
    """smtpd_discard_ehlo_keywords = starttls: no STARTTLS in EHLO, and the
    command is not implemented for that client (as Postfix)."""
    inst = mx.start(smtpd_tls_security_level="may", smtpd_discard_ehlo_keywords="starttls")
    c = connect(inst)
    assert "STARTTLS" not in ehlo_keywords(c)
    assert c.one("STARTTLS") == "502 5.5.1 Error: command not implemented"
    assert c.one("STARTTLS x") == "501 5.5.4 Syntax: STARTTLS"
    assert c.one("NOOP") == "250 2.0.0 Ok"
