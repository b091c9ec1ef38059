"""SASL authentication in the smtp(8)/lmtp(8) client (security.md 6;
acceptance checks 24-26 of security.md 11).

Mail enters through cleanup (Instance.cleanup_submit) and leaves through
relayhost = [127.0.0.1]:PORT (or a transport/LMTP next hop) to a scripted
peer (smtppeer.Peer with auth=...) that runs the PLAIN, LOGIN and
CRAM-MD5 exchanges, checks the credentials and records what it received.
The tests assert what the peer saw (the AUTH commands and credentials),
the delivery log lines and the queue. The last test uses Debian's Postfix
3.7 smtpd with Cyrus sasldb as the authenticating server.
"""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from smtppeer import Peer

SENDER = "alice@example.org"
RCPT = "bob@remote.test"
LINE = (r"postfix/(?P<agent>smtp|lmtp)\[\d+\]: (?P<qid>\w+): to=<(?P<rcpt>[^>]+)>, relay=(?P<relay>\S+), "
        r"(?:conn_use=\d+, )?delay=[0-9.]+, delays=[0-9./]+, dsn=(?P<dsn>[0-9.]+), "
        r"status=(?P<status>\w+) \((?P<text>.*)\)$")
USERS = {"u1": "p1", "u2": "p2", "sa": "psa", "cu": "c secret"}


def start(inst, peers, **params):
    """Relay everything through the first peer (or PARAMS' relayhost)."""
    settings = {"minimal_backoff_time": "300s", "maximal_backoff_time": "300s",
                "relayhost": peers[0].nexthop if peers else "",
                "smtp_sasl_auth_enable": "yes"}
    settings.update(params)
    inst.settings.update(settings)
    inst.write_main_cf("")
    inst.start()


def submit(inst, sender=SENDER, rcpt=RCPT):
    content = f"From: <{sender}>\nTo: <{rcpt}>\nSubject: sasl test\n\nbody\n"
    res = inst.cleanup_submit(sender, [rcpt], content)
    assert res["status"] == 0, res
    return res["queue_id"]


def delivery(inst, qid, rcpt=RCPT, timeout=30):
    """The delivery log line of QID (a dict)."""
    inst.wait_log(rf"postfix/(smtp|lmtp)\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, .*status=", timeout=timeout)
    for m in re.finditer(LINE, inst.log(), re.M):
        if m["qid"] == qid and m["rcpt"] == rcpt:
            return m.groupdict()
    raise AssertionError(f"no parsable delivery line for {qid}:\n{inst.log_tail()}")


def auth_commands(peer):
    return [c for s in peer.sessions for c in s.commands if c.upper().startswith("AUTH")]


def client_log(inst):
    """The smtp/lmtp client's log lines."""
    return [line for line in inst.log().splitlines() if re.search(r"postfix/(smtp|lmtp)\[", line)]


def inline(entries):
    return "inline:{" + ", ".join("{%s=%s}" % kv for kv in entries) + "}"


# --- acceptance check 24: lookup order -----------------------------------

@pytest.mark.parametrize("which, want", [
    ("both", [("u2", "p2")]),        # the host connected before the next hop
    ("nexthop", [("u1", "p1")]),
    ("none", []),
])
def test_password_lookup_order(make_instance, which, want):
    with Peer(auth="PLAIN", auth_users=USERS) as peer:
        entries = {"both": [(peer.nexthop, "u1:p1"), ("127.0.0.1", "u2:p2")],
                   "nexthop": [(peer.nexthop, "u1:p1")],
                   "none": [("[127.0.0.1]", "u3:p3"), (f"127.0.0.1:{peer.port}", "u3:p3")]}[which]
        inst = make_instance()
        start(inst, [peer], smtp_sasl_security_options="noanonymous",
              smtp_sasl_password_maps=inline(entries))
        qid = submit(inst)
        d = delivery(inst, qid)
        assert d["status"] == "sent", d
        assert d["relay"] == f"127.0.0.1[127.0.0.1]:{peer.port}"
        assert peer.auth_logins() == want
        if want:
            [rec] = peer.sessions[0].auth
            assert rec["mechanism"] == "PLAIN" and rec["initial"]
            assert rec["ok"] and rec["code"] == 235
            # AUTH comes right after EHLO, before MAIL.
            cmds = [c.split()[0].upper() for c in peer.sessions[0].commands]
            assert cmds[:3] == ["EHLO", "AUTH", "MAIL"]
        else:
            assert auth_commands(peer) == []
        # Nothing about SASL is logged on success at default verbosity.
        assert not [line for line in client_log(inst) if "SASL" in line or "warning" in line]
        assert inst.queue_ids("deferred") == []


def test_plain_wire_format_as_postfix(make_instance):
    # Debian's Postfix 3.7 sends "AUTH PLAIN AHUyAHAy" (empty authorization
    # identity, NUL u2 NUL p2) as the initial response: the same bytes.
    with Peer(auth="PLAIN", auth_users=USERS) as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_security_options="noanonymous",
              smtp_sasl_password_maps=inline([("127.0.0.1", "u2:p2")]))
        assert delivery(inst, submit(inst))["status"] == "sent"
        assert auth_commands(peer) == ["AUTH PLAIN AHUyAHAy"]
        assert peer.sessions[0].auth[0]["authzid"] == ""


# --- acceptance check 25: security options ------------------------------

def test_default_security_options_refuse_plaintext(make_instance):
    with Peer(auth="PLAIN", auth_users=USERS) as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_password_maps=inline([("127.0.0.1", "u2:p2")]))
        qid = submit(inst)
        d = delivery(inst, qid)
        assert d["status"] == "deferred" and d["dsn"] == "4.7.0", d
        assert d["text"] == ("SASL authentication failed; cannot authenticate to server "
                             "127.0.0.1[127.0.0.1]: no mechanism available")
        assert auth_commands(peer) == []
        assert peer.messages == []
        # The session ends politely.
        assert peer.sessions[0].commands[-1] == "QUIT"
        assert inst.wait_queued(1, "deferred") == [qid]


def test_tls_security_options_do_not_apply_to_plaintext(make_instance):
    # smtp_sasl_tls_security_options would allow PLAIN, but the session is
    # not encrypted: smtp_sasl_security_options (default) still rules.
    with Peer(auth="PLAIN", auth_users=USERS) as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_password_maps=inline([("127.0.0.1", "u2:p2")]),
              smtp_sasl_tls_security_options="noanonymous")
        d = delivery(inst, submit(inst))
        assert d["status"] == "deferred" and "cannot authenticate to server" in d["text"], d
        assert auth_commands(peer) == []


# --- acceptance check 26: the server refuses ----------------------------

def test_535_defers(make_instance):
    with Peer(auth="PLAIN", auth_reply=(535, "5.7.8 nope")) as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_security_options="noanonymous",
              smtp_sasl_password_maps=inline([("127.0.0.1", "u2:p2")]))
        qid = submit(inst)
        d = delivery(inst, qid)
        assert d["status"] == "deferred" and d["dsn"] == "4.7.8", d
        assert d["text"] == "SASL authentication failed; server 127.0.0.1[127.0.0.1] said: 535 5.7.8 nope"
        assert len(auth_commands(peer)) == 1
        assert peer.messages == []
        assert peer.sessions[0].commands[-1] == "QUIT"
        assert inst.wait_queued(1, "deferred") == [qid]
        # Not a relayhost configuration problem, no bounce.
        assert "configuration problem" not in inst.log()
        assert "status=bounced" not in inst.log()


def test_535_bounces_without_soft_bounce(make_instance):
    with Peer(auth="PLAIN", auth_reply=(535, "5.7.8 nope")) as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_security_options="noanonymous", smtp_sasl_auth_soft_bounce="no",
              smtp_sasl_password_maps=inline([("127.0.0.1", "u2:p2")]))
        qid = submit(inst)
        d = delivery(inst, qid)
        assert d["status"] == "bounced" and d["dsn"] == "5.7.8", d
        assert d["text"] == "SASL authentication failed; server 127.0.0.1[127.0.0.1] said: 535 5.7.8 nope"
        assert "configuration problem" not in inst.log()


def test_wrong_password_and_4xx_defer(make_instance):
    with Peer(auth="LOGIN", auth_users=USERS) as bad, \
            Peer(auth="PLAIN", auth_reply=(454, "4.7.0 Temporary authentication failure")) as busy:
        inst = make_instance()
        inst.write_file("transport", f"bad.test smtp:{bad.nexthop}\nbusy.test smtp:{busy.nexthop}\n")
        start(inst, [], smtp_sasl_security_options="noanonymous",
              transport_maps=f"texthash:{inst.path}/transport",
              smtp_sasl_password_maps=inline([("127.0.0.1", "u1:wrong")]))
        d = delivery(inst, submit(inst, rcpt="x@bad.test"), rcpt="x@bad.test")
        assert d["status"] == "deferred" and d["dsn"] == "4.7.8", d
        assert d["text"] == ("SASL authentication failed; server 127.0.0.1[127.0.0.1] said: "
                             "535 5.7.8 Error: authentication failed: authentication failure")
        assert bad.auth_logins() == [("u1", "wrong")]
        d = delivery(inst, submit(inst, rcpt="y@busy.test"), rcpt="y@busy.test")
        assert d["status"] == "deferred" and d["dsn"] == "4.7.0", d
        assert d["text"].endswith("said: 454 4.7.0 Temporary authentication failure")


def test_failure_moves_on_to_the_next_relay(make_instance):
    # An authentication failure concerns one server: the next one is tried.
    with Peer(auth="PLAIN", auth_reply=(535, "5.7.8 nope")) as first, \
            Peer(auth="PLAIN", auth_users=USERS) as second:
        inst = make_instance()
        start(inst, [first], relayhost=f"{first.nexthop}, {second.nexthop}",
              smtp_sasl_security_options="noanonymous",
              smtp_sasl_password_maps=inline([("127.0.0.1", "u2:p2")]))
        d = delivery(inst, submit(inst))
        assert d["status"] == "sent" and d["relay"] == f"127.0.0.1[127.0.0.1]:{second.port}", d
        assert first.auth_logins() == [("u2", "p2")] and first.messages == []
        assert second.auth_logins() == [("u2", "p2")] and len(second.messages) == 1


# --- mechanisms -----------------------------------------------------------

@pytest.mark.parametrize("offered, options, want_mech", [
    ("LOGIN", "noanonymous", "LOGIN"),
    ("CRAM-MD5", None, "CRAM-MD5"),           # allowed by the default options
    ("PLAIN LOGIN CRAM-MD5", None, "CRAM-MD5"),
])
def test_mechanisms(make_instance, offered, options, want_mech):
    with Peer(auth=offered, auth_users=USERS) as peer:
        inst = make_instance()
        params = {"smtp_sasl_password_maps": inline([("127.0.0.1", "cu:c secret")])}
        if options:
            params["smtp_sasl_security_options"] = options
        start(inst, [peer], **params)
        d = delivery(inst, submit(inst))
        assert d["status"] == "sent", d
        [rec] = peer.sessions[0].auth
        assert rec["mechanism"] == want_mech and rec["username"] == "cu"
        assert rec["ok"] and rec["code"] == 235, rec
        if want_mech == "LOGIN":
            assert rec["password"] == "c secret"
        assert len(peer.messages) == 1


def test_auth_equals_line_is_understood(make_instance):
    # Old servers announce "AUTH=PLAIN" as well; one AUTH command is sent.
    with Peer(auth="PLAIN", auth_equals=True, auth_users=USERS) as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_security_options="noanonymous",
              smtp_sasl_password_maps=inline([("127.0.0.1", "u2:p2")]))
        assert delivery(inst, submit(inst))["status"] == "sent"
        assert peer.auth_logins() == [("u2", "p2")]


def test_mechanism_filter(make_instance):
    with Peer(auth="PLAIN LOGIN CRAM-MD5", auth_users=USERS) as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_security_options="noanonymous",
              smtp_sasl_mechanism_filter="login",
              smtp_sasl_password_maps=inline([("127.0.0.1", "u2:p2")]))
        assert delivery(inst, submit(inst))["status"] == "sent"
        assert [a["mechanism"] for a in peer.sessions[0].auth] == ["LOGIN"]


def test_mechanism_filter_leaves_nothing(make_instance):
    with Peer(auth="PLAIN LOGIN", auth_users=USERS) as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_security_options="noanonymous",
              smtp_sasl_mechanism_filter="!plain, cram-md5",
              smtp_sasl_password_maps=inline([("127.0.0.1", "u2:p2")]))
        d = delivery(inst, submit(inst))
        assert d["status"] == "deferred" and d["dsn"] == "4.7.0", d
        assert d["text"] == ("SASL authentication failed: server 127.0.0.1[127.0.0.1] offered no "
                             "compatible authentication mechanisms for this type of connection security")
        inst.wait_log(rf"postfix/smtp\[\d+\]: warning: 127\.0\.0\.1\[127\.0\.0\.1\]:{peer.port} offered no "
                      r"supported AUTH mechanisms: 'PLAIN LOGIN'$")
        assert auth_commands(peer) == []


def test_no_auth_offered_sends_unauthenticated(make_instance):
    with Peer() as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_security_options="noanonymous",
              smtp_sasl_password_maps=inline([("127.0.0.1", "u2:p2")]))
        assert delivery(inst, submit(inst))["status"] == "sent"
        assert auth_commands(peer) == [] and len(peer.messages) == 1


def test_disabled_means_no_auth(make_instance):
    with Peer(auth="PLAIN", auth_users=USERS) as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_auth_enable="no", smtp_sasl_security_options="noanonymous",
              smtp_sasl_password_maps=inline([("127.0.0.1", "u2:p2")]))
        assert delivery(inst, submit(inst))["status"] == "sent"
        assert auth_commands(peer) == []


def test_password_table_file_and_delimiter(make_instance):
    # A 0600 root-owned-style file (opened before privileges are dropped)
    # and another result delimiter; the password keeps later delimiters.
    with Peer(auth="PLAIN", auth_users={"u1": "p|1"}) as peer:
        inst = make_instance()
        inst.write_file("sasl_passwd", f"{peer.nexthop} u1|p|1\n", mode=0o600)
        start(inst, [peer], smtp_sasl_security_options="noanonymous",
              smtp_sasl_password_result_delimiter="|",
              smtp_sasl_password_maps=f"texthash:{inst.path}/sasl_passwd")
        assert delivery(inst, submit(inst))["status"] == "sent"
        assert peer.auth_logins() == [("u1", "p|1")]


# --- sender-dependent authentication -------------------------------------

@pytest.mark.parametrize("dependent", ["yes", "no"])
def test_sender_dependent_authentication(make_instance, dependent):
    with Peer(auth="PLAIN", auth_users=USERS) as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_security_options="noanonymous",
              smtp_sender_dependent_authentication=dependent,
              smtp_sasl_password_maps=inline([(SENDER, "sa:psa"), ("127.0.0.1", "u2:p2")]))
        q1 = submit(inst, sender=SENDER)
        assert delivery(inst, q1)["status"] == "sent"
        q2 = submit(inst, sender="carol@example.net")
        assert delivery(inst, q2)["status"] == "sent"
        by_sender = {m.mail_from: [(a["username"], a["password"]) for a in m.session.auth]
                     for m in peer.messages}
        if dependent == "yes":
            assert by_sender == {SENDER: [("sa", "psa")], "carol@example.net": [("u2", "p2")]}
        else:
            assert by_sender == {SENDER: [("u2", "p2")], "carol@example.net": [("u2", "p2")]}


def test_sender_dependent_authentication_never_reuses_connections(make_instance):
    # Two senders queued together for the same relay: each message gets its
    # own connection and its own login (connection caching is off).
    with Peer(auth="PLAIN", auth_users=USERS, delays={"eod": 0.4}) as peer:
        inst = make_instance()
        start(inst, [peer], smtp_sasl_security_options="noanonymous",
              smtp_sender_dependent_authentication="yes",
              smtp_destination_concurrency_limit="1",
              smtp_sasl_password_maps=inline([(SENDER, "sa:psa"), ("127.0.0.1", "u2:p2")]))
        qids = [submit(inst, sender=s) for s in (SENDER, "carol@example.net", SENDER)]
        for q in qids:
            assert delivery(inst, q)["status"] == "sent"
        assert len(peer.sessions) == 3
        assert all(len(s.messages) == 1 and len(s.auth) == 1 for s in peer.sessions)
        for m in peer.messages:
            want = ("sa", "psa") if m.mail_from == SENDER else ("u2", "p2")
            assert (m.session.auth[0]["username"], m.session.auth[0]["password"]) == want
        assert "conn_use=" not in inst.log()


# --- LMTP twins -----------------------------------------------------------

def test_lmtp_reads_its_own_parameters(make_instance):
    with Peer(lmtp=True, auth="PLAIN", auth_users={"lu": "lp"}) as peer:
        inst = make_instance()
        start(inst, [], smtp_sasl_auth_enable="no",
              local_transport=f"lmtp:inet:127.0.0.1:{peer.port}",
              lmtp_sasl_auth_enable="yes", lmtp_sasl_security_options="noanonymous",
              lmtp_sasl_password_maps=inline([("127.0.0.1", "lu:lp")]))
        rcpt = f"someone@{inst.hostname}"
        d = delivery(inst, submit(inst, rcpt=rcpt), rcpt=rcpt)
        assert d["status"] == "sent" and d["agent"] == "lmtp", d
        assert peer.auth_logins() == [("lu", "lp")]
        assert peer.sessions[0].ehlo_verb == "LHLO"


# --- interop: Debian Postfix smtpd with Cyrus sasldb ----------------------

SMTPD_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: {sasldb}
mech_list: PLAIN LOGIN CRAM-MD5
"""


@pytest.mark.parametrize("mech_filter, want_mech", [("", "CRAM-MD5"), ("plain", "PLAIN")])
def test_interop_postfix_smtpd_sasldb(make_instance, mech_filter, want_mech):
    if os.geteuid() != 0 or not shutil.which("saslpasswd2"):
        raise AssertionError("needs root and sasl2-bin (saslpasswd2)")
    from smtpd_systems import PostfixSmtpd
    work = tempfile.mkdtemp(prefix="postern-smtp-sasl-")
    pf = PostfixSmtpd(work)
    # Debian's Postfix reads $config_directory/sasl/smtpd.conf.
    sasl_dir = os.path.join(pf.conf, "sasl")
    os.makedirs(sasl_dir, exist_ok=True)
    sasldb = os.path.join(sasl_dir, "sasldb2")
    subprocess.run(["saslpasswd2", "-c", "-p", "-f", sasldb, "-u", "pf.test", "relayuser"],
                   input=b"relay secret", check=True, timeout=30)
    shutil.chown(sasldb, "postfix", "postfix")
    os.chmod(sasldb, 0o600)
    with open(os.path.join(sasl_dir, "smtpd.conf"), "w") as f:
        f.write(SMTPD_CONF.format(sasldb=sasldb))
    pf.configure({"smtpd_sasl_auth_enable": "yes",
                  "smtpd_sasl_local_domain": "pf.test",
                  "smtpd_sasl_security_options": "noanonymous",
                  "mynetworks": "192.0.2.0/24",
                  "smtpd_relay_restrictions": "permit_sasl_authenticated, reject_unauth_destination",
                  "smtpd_recipient_restrictions": ""})
    pf.start()
    try:
        inst = make_instance()
        params = {"smtp_sasl_security_options": "noanonymous",
                  "smtp_sasl_password_maps": inline([("127.0.0.1", "relayuser@pf.test:relay secret")])}
        if mech_filter:
            params["smtp_sasl_mechanism_filter"] = mech_filter
        start(inst, [], relayhost=f"[127.0.0.1]:{pf.port}", **params)
        d = delivery(inst, submit(inst))
        assert d["status"] == "sent", d
        assert d["relay"] == f"127.0.0.1[127.0.0.1]:{pf.port}"
        with open(pf.log_file) as f:
            log = f.read()
        assert re.search(rf"postfix/smtpd\[\d+\]: \w+: client=localhost\[127\.0\.0\.1\], "
                         rf"sasl_method={want_mech}, sasl_username=relayuser@pf\.test$", log, re.M), log
        assert len(pf_queued(pf)) == 1
    finally:
        pf.close()
        shutil.rmtree(work, ignore_errors=True)


def pf_queued(pf):
    from smtpd_systems import queued
    return queued(pf.queue_dir)
