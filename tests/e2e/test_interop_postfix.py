"""Interoperability with Debian's Postfix 3.7 as a real peer, both ways
(issue 8): Postern's smtp client hands mail to Postfix's smtpd, and
Postfix's smtp client hands mail to Postern's smtpd. Each side's log
must show the other's queue ID, so nothing is taken on trust.
"""
import os
import re
import shutil
import tempfile

import pytest

import postern
from postfix_system import PostfixSystem

QID = r"[0-9A-F]{6,}"


@pytest.fixture
def postfix():
    # Not under pytest's tmp_path: Postfix's own user must reach the directory.
    work = tempfile.mkdtemp(prefix="postern-interop-")
    pf = PostfixSystem(work, hostname="pf.example.test")
    yield pf
    pf.close()
    shutil.rmtree(work, ignore_errors=True)


def test_postern_relays_to_postfix(instance, postfix):
    postfix.configure({"mydestination": "remote.test", "local_recipient_maps": "",
                       "local_transport": "discard:received by postfix"})
    postfix.start()
    instance.settings.update({"relayhost": f"[127.0.0.1]:{postfix.port}"})
    instance.write_main_cf("")
    instance.start()
    qid = instance.send_mail(sender="alice@example.com", recipients=["bob@remote.test"],
                             subject="interop").queue_id
    m = instance.wait_log(rf"{qid}: to=<bob@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{postfix.port}, "
                          rf".*dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as ({QID})\)", timeout=30)
    pf_qid = m.group(1)
    postfix.wait_log(rf"{pf_qid}: from=<alice@example\.com>, size=\d+, nrcpt=1")
    postfix.wait_log(rf"{pf_qid}: to=<bob@remote\.test>, relay=none, .*status=sent \(received by postfix\)")


def test_postfix_relays_to_postern(instance, postfix):
    user = instance.user.pw_name if instance.user else os.environ.get("USER", "root")
    instance.start()
    postfix.configure({"relayhost": f"[127.0.0.1]:{instance.smtp_port}", "mydestination": ""})
    postfix.start()
    postfix.sendmail("carol@pf.example.test", [f"{user}@{instance.hostname}"],
                     "Subject: from postfix\n\nhello postern\n")
    m = postfix.wait_log(rf"({QID}): to=<{re.escape(user)}@{re.escape(instance.hostname)}>, "
                         rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{instance.smtp_port}, .*status=sent "
                         rf"\(250 2\.0\.0 Ok: queued as ({QID})\)", timeout=30)
    our_qid = m.group(2)
    instance.wait_log(rf"{our_qid}: to=<{re.escape(user)}@{re.escape(instance.hostname)}>, relay=local, "
                      rf".*status=sent \(delivered to mailbox\)")
    with open(os.path.join(instance.mail_dir, user), "rb") as f:
        mbox = f.read()
    assert b"From carol@pf.example.test  " in mbox
    assert b"hello postern\n" in mbox
