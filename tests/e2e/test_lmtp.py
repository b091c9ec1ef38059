"""End-to-end tests of lmtp(8) (delivery.md 7; acceptance 16-18): Postern
delivering into a real Dovecot (tests/e2e/dovecot.py) over a UNIX socket
(mailbox_transport = lmtp:unix:SOCKET) and over TCP (virtual_transport =
lmtp:inet:127.0.0.1:PORT, fallback_transport), and into the scripted peer
(tests/e2e/smtppeer.py) where a test needs replies Dovecot never gives
(250 then 452 after the dot) or must see the RCPT addresses.

Messages are queued straight through cleanup (Instance.cleanup_submit).
The local recipient is the instance's own user (test_local.py); Dovecot
gets a user of the same name. Until Postern's lmtp client exists every
test fails with "build/libexec/lmtp is not built".
"""

import os
import pwd
import re
import time

import pytest

import postern
from dovecot import Dovecot
from smtppeer import Peer

HOST = postern.TEST_HOSTNAME


def need_lmtp():
    prog = os.path.join(postern.LIBEXEC_DIR, "lmtp")
    if not os.access(prog, os.X_OK):
        raise postern.MissingProgram(f"{os.path.relpath(prog, postern.TOP)} is not built")


@pytest.fixture
def inst():
    instance = postern.Instance()
    u = instance.user if instance.user is not None else pwd.getpwuid(os.getuid())
    instance.uname = u.pw_name
    yield instance
    instance.close()


@pytest.fixture
def dovecot():
    dc = Dovecot()
    dc.start()
    yield dc
    dc.close()


def configure(inst, **settings):
    inst.settings.update({k: str(v) for k, v in settings.items()})
    inst.write_main_cf("")


def write_aliases(inst, text):
    path = os.path.join(inst.root, "etc", "aliases")
    inst.write_file(path, text)
    inst.run("postalias", path, check=True)
    return f"hash:{path}"


def submit(inst, recipients, sender="alice@example.org", subject="lmtp test"):
    content = (f"From: <{sender}>\nTo: <{recipients[0]}>\nSubject: {subject}\n"
               f"Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
               f"Message-ID: <lmtp.{time.time()}@client.example>\n\nhello lmtp\n")
    res = inst.cleanup_submit(sender, recipients, content)
    assert res["status"] == 0, res
    return res["queue_id"]


def delivery(inst, qid, rcpt, status, timeout=20):
    """The delivery line of RCPT: groups orig, relay, dsn, text."""
    return inst.wait_log(rf"^.*\S+\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, "
                         rf"(?:orig_to=<(?P<orig>[^>]*)>, )?relay=(?P<relay>\S+), "
                         rf"(?:conn_use=\d+, )?delay=[0-9.]+, delays=[0-9./]+, "
                         rf"dsn=(?P<dsn>\d\.\d+\.\d+), status={status} \((?P<text>.*)\)$",
                         timeout=timeout)


def test_mailbox_transport_unix_socket_into_dovecot(inst, dovecot):
    need_lmtp()
    dovecot.add_user(inst.uname)
    configure(inst, mailbox_transport=f"lmtp:{dovecot.unix_nexthop}")
    inst.start()
    rcpt = f"{inst.uname}@{HOST}"
    qid = submit(inst, [rcpt])
    m = delivery(inst, qid, rcpt, "sent")
    # acceptance 18: a UNIX-socket relay is myhostname[path]
    assert m["relay"] == f"{HOST}[{dovecot.socket_path}]"
    assert m["dsn"] == "2.0.0" and m["text"].startswith("250 2.0.0 ")
    [msg] = dovecot.wait_messages(inst.uname, 1)
    assert b"Subject: lmtp test\n" in msg and msg.endswith(b"\nhello lmtp\n")
    assert msg.startswith(b"Return-Path: <alice@example.org>\n")
    inst.wait_queue_empty()
    assert not os.path.exists(os.path.join(inst.mail_dir, inst.uname))


def test_virtual_transport_inet_into_dovecot(inst, dovecot):
    need_lmtp()
    dovecot.add_user("vuser")
    configure(inst, virtual_mailbox_domains="v.test", virtual_transport=f"lmtp:{dovecot.inet_nexthop}")
    inst.start()
    qid = submit(inst, ["vuser@v.test", "nosuch@v.test"])
    m = delivery(inst, qid, "vuser@v.test", "sent")
    assert m["relay"] == f"127.0.0.1[127.0.0.1]:{dovecot.port}"
    [msg] = dovecot.wait_messages("vuser", 1)
    assert msg.endswith(b"\nhello lmtp\n")
    # Dovecot's 550 to RCPT bounces that recipient alone
    m = delivery(inst, qid, "nosuch@v.test", "bounced")
    assert m["dsn"] == "5.1.1"
    assert m["text"].startswith(f"host 127.0.0.1[127.0.0.1] said: 550 5.1.1 ")
    assert m["text"].endswith("(in reply to RCPT TO command)")


def test_fallback_transport_gets_unknown_users(inst, dovecot):
    """Acceptance 16: local_recipient_maps = and fallback_transport = lmtp:inet:..."""
    need_lmtp()
    dovecot.add_user("zz")
    configure(inst, local_recipient_maps="", fallback_transport=f"lmtp:{dovecot.inet_nexthop}")
    inst.start()
    qid = submit(inst, [f"zz@{HOST}"])
    m = delivery(inst, qid, f"zz@{HOST}", "sent")
    assert m["relay"] == f"127.0.0.1[127.0.0.1]:{dovecot.port}"
    assert len(dovecot.wait_messages("zz", 1)) == 1


@pytest.mark.parametrize("param", ["mailbox_transport", "local_transport"])
def test_alias_expansion_before_mailbox_transport_only(inst, param):
    """Acceptance 17: alias p: USER; mailbox_transport = lmtp:... -> the peer
    gets RCPT USER; local_transport = lmtp:... -> the peer gets p."""
    need_lmtp()
    with Peer(lmtp=True) as peer:
        configure(inst, alias_maps=write_aliases(inst, f"p: {inst.uname}\n"),
                  **{param: f"lmtp:inet:127.0.0.1:{peer.port}"})
        inst.start()
        qid = submit(inst, [f"p@{HOST}"])
        m = delivery(inst, qid, f"{inst.uname}@{HOST}" if param == "mailbox_transport" else f"p@{HOST}",
                     "sent")
        assert m["relay"] == f"127.0.0.1[127.0.0.1]:{peer.port}"
        [msg] = peer.wait_messages(1)
        want = inst.uname if param == "mailbox_transport" else "p"
        assert msg.rcpt_to == [f"{want}@{HOST}"]
        assert msg.session.ehlo_verb == "LHLO" and msg.helo == HOST
        assert msg.mail_from == "alice@example.org"


def test_per_recipient_replies_after_dot(inst):
    """Acceptance 18: 250 for the first recipient, 452 for the second."""
    need_lmtp()
    with Peer(lmtp=True, lmtp_replies=[(250, "2.0.0 first saved"),
                                      (452, "4.2.2 Mailbox full")]) as peer:
        configure(inst, local_transport=f"lmtp:inet:127.0.0.1:{peer.port}")
        inst.start()
        r1, r2 = f"one@{HOST}", f"two@{HOST}"
        qid = submit(inst, [r1, r2])
        m1 = delivery(inst, qid, r1, "sent")
        assert m1["text"] == "250 2.0.0 first saved"
        m2 = delivery(inst, qid, r2, "deferred")
        assert m2["dsn"] == "4.2.2"
        assert m2["text"] == ("host 127.0.0.1[127.0.0.1] said: 452 4.2.2 Mailbox full "
                              "(in reply to end of DATA command)")
        first = peer.wait_messages(1)[0]
        assert first.rcpt_to == [r1, r2]
        # one transaction, DATA once
        assert sum(1 for s in peer.sessions for c in s.commands if c.upper() == "DATA") == 1
        # The agent logs the deferral before the queue manager moves the file.
        assert inst.wait_queued(1, "deferred") == [qid]
