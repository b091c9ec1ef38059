"""End-to-end tests of local(8)'s core and terminal deliveries
(delivery.md 1 and 2: 2.1 recipient handling, 2.5 commands, 2.6 mailbox
and Maildir delivery, 2.7 the precedence chain: mailbox_transport,
mailbox_command, mailbox, fallback_transport, luser_relay, unknown).

The local recipient is the instance's own user (rootless: the user the
instance runs as; its mailbox is mail/USER in the instance). Messages are
queued straight through cleanup (Instance.cleanup_submit), so unknown
users reach local(8) without smtpd's local_recipient_maps check. The
"test" service (src/testagent, as in test_qmgr.py) stands in for
mailbox_transport and fallback_transport destinations.
"""
import json
import os
import pwd
import re
import stat
import time

import pytest

import postern

HOST = postern.TEST_HOSTNAME
QID = r"[0-9A-F]{6,}"
FROM_LINE = rb"From %s  (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\n"


def user_of(inst):
    """The instance user's passwd entry."""
    return inst.user if inst.user is not None else pwd.getpwuid(os.getuid())


@pytest.fixture
def inst():
    instance = postern.Instance()
    instance.uname = user_of(instance).pw_name
    instance.rules, instance.journal = instance.add_test_agent()
    instance.write_main_cf("")
    yield instance
    instance.close()


def configure(inst, **settings):
    inst.settings.update({k: str(v) for k, v in settings.items()})
    inst.write_main_cf("")


def submit(inst, sender, recipients, body="hello\n", headers=""):
    content = (f"From: <{sender or 'MAILER-DAEMON'}>\nTo: <{recipients[0]}>\nSubject: local test\n"
               f"Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
               f"Message-ID: <local.{time.time()}@client.example>\n{headers}\n{body}")
    res = inst.cleanup_submit(sender, recipients, content)
    assert res["status"] == 0, res
    return res["queue_id"]


def delivery(inst, qid, rcpt, status, timeout=15):
    """The delivery line of RCPT (a match with relay, orig, delays, dsn, text)."""
    return inst.wait_log(rf"^.*\S+\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, "
                         rf"(?:orig_to=<(?P<orig>[^>]*)>, )?relay=(?P<relay>\S+), "
                         rf"delay=[0-9.]+, delays=(?P<delays>[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+), "
                         rf"dsn=(?P<dsn>\d\.\d+\.\d+), status={status} \((?P<text>.*)\)$",
                         timeout=timeout)


def mbox_path(inst):
    return os.path.join(inst.mail_dir, inst.uname)


def journal(inst):
    try:
        with open(inst.journal) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def test_mbox_exact_bytes_and_append(inst):
    inst.start()
    rcpt = f"{inst.uname}@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt], body="first line\nFrom me\n>From you\n")
    m = delivery(inst, qid, rcpt, "sent")
    assert m["relay"] == "local"
    assert m["dsn"] == "2.0.0" and m["text"] == "delivered to mailbox"
    assert m["orig"] is None
    msgs = postern.read_mbox(mbox_path(inst))
    assert len(msgs) == 1
    msg = msgs[0]
    head = re.match(FROM_LINE % rb"alice@example\.org", msg)
    assert head, msg
    rest = msg[head.end():]
    assert rest.startswith(b"Return-Path: <alice@example.org>\n"
                           + f"X-Original-To: {rcpt}\nDelivered-To: {rcpt}\n".encode())
    assert b"\nSubject: local test\n" in rest
    assert rest.endswith(b"\n\nfirst line\n>From me\n>From you\n\n")

    qid2 = submit(inst, "bob@example.org", [rcpt], body="second\n")
    delivery(inst, qid2, rcpt, "sent")
    msgs = postern.read_mbox(mbox_path(inst))
    assert len(msgs) == 2
    assert msgs[0] == msg
    assert re.match(FROM_LINE % rb"bob@example\.org", msgs[1])
    assert msgs[1].endswith(b"\n\nsecond\n\n")
    assert stat.S_IMODE(os.stat(mbox_path(inst)).st_mode) == 0o600


def test_null_sender_from_line(inst):
    inst.start()
    rcpt = f"{inst.uname}@{HOST}"
    qid = submit(inst, "", [rcpt])
    delivery(inst, qid, rcpt, "sent")
    msg = postern.read_mbox(mbox_path(inst))[0]
    head = re.match(FROM_LINE % rb"MAILER-DAEMON", msg)
    assert head, msg
    assert msg[head.end():].startswith(b"Return-Path: <>\n")


def test_maildir_in_spool(inst):
    configure(inst, mail_spool_directory=inst.mail_dir + "/")
    inst.start()
    rcpt = f"{inst.uname}@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt], body="From maildir\n")
    m = delivery(inst, qid, rcpt, "sent")
    assert m["text"] == "delivered to maildir"
    md = os.path.join(inst.mail_dir, inst.uname)
    assert os.listdir(os.path.join(md, "tmp")) == []
    assert os.listdir(os.path.join(md, "cur")) == []
    msgs = postern.read_maildir(md)
    assert len(msgs) == 1
    assert msgs[0].startswith(b"Return-Path: <alice@example.org>\n"
                              + f"X-Original-To: {rcpt}\nDelivered-To: {rcpt}\n".encode())
    assert msgs[0].endswith(b"\n\nFrom maildir\n")


def test_forwarding_loop(inst):
    inst.start()
    rcpt = f"{inst.uname}@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt], headers=f"Delivered-To: {rcpt.upper()}\n")
    m = delivery(inst, qid, rcpt, "bounced")
    assert m["dsn"] == "5.4.6"
    assert m["text"] == f"mail forwarding loop for {rcpt}"
    assert not os.path.exists(mbox_path(inst))


def test_recipient_delimiter_extension(inst):
    configure(inst, recipient_delimiter="+")
    inst.start()
    rcpt = f"{inst.uname}+lists@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt])
    m = delivery(inst, qid, rcpt, "sent")
    assert m["text"] == "delivered to mailbox"
    msg = postern.read_mbox(mbox_path(inst))[0]
    assert f"Delivered-To: {rcpt}\n".encode() in msg

    bad = f"{inst.uname}+a/b@{HOST}"
    qid = submit(inst, "alice@example.org", [bad])
    delivery(inst, qid, bad, "sent")
    inst.wait_log(rf"warning: {qid}: address with illegal extension: {re.escape(bad.split('@')[0])}$")

    null = f"+x@{HOST}"
    qid = submit(inst, "alice@example.org", [null])
    m = delivery(inst, qid, null, "bounced")
    assert m["dsn"] == "5.1.3" and m["text"] == f'null username in "{null}"'


def test_unknown_user(inst):
    inst.start()
    rcpt = f"zz@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt])
    m = delivery(inst, qid, rcpt, "bounced")
    assert m["relay"] == "local" and m["dsn"] == "5.1.1"
    assert m["text"] == 'unknown user: "zz"'


def test_required_alias_postmaster_discarded(inst):
    inst.start()
    rcpt = f"postmaster@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt])
    m = delivery(inst, qid, rcpt, "sent")
    assert m["text"] == "discarded"
    inst.wait_log(r"warning: required alias not found: postmaster$")


def test_luser_relay(inst):
    configure(inst, luser_relay=inst.uname)
    inst.start()
    rcpt = f"zz@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt])
    m = delivery(inst, qid, f"{inst.uname}@{HOST}", "sent")
    assert m["orig"] == rcpt
    assert m["text"] == "delivered to mailbox"
    msg = postern.read_mbox(mbox_path(inst))[0]
    # X-Original-To and Delivered-To keep the address the delivery started with.
    assert f"X-Original-To: {rcpt}\nDelivered-To: {rcpt}\n".encode() in msg


def test_fallback_transport(inst):
    configure(inst, fallback_transport="test")
    inst.start()
    rcpt = f"zz@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt])
    m = delivery(inst, qid, rcpt, "sent")
    assert m["relay"].startswith("testagent[")
    reqs = journal(inst)
    assert len(reqs) == 1
    assert reqs[0]["queue_id"] == qid
    assert [r["address"] for r in reqs[0]["recipients"]] == [rcpt]
    inst.wait_queue_empty()
    # the known user still gets the mailbox
    known = f"{inst.uname}@{HOST}"
    qid = submit(inst, "alice@example.org", [known])
    assert delivery(inst, qid, known, "sent")["relay"] == "local"


def test_mailbox_transport_with_nexthop(inst):
    configure(inst, mailbox_transport="test:[inside.example]")
    with open(inst.rules, "w") as f:
        f.write("^zz@ defer 4.2.1 try later\n")
    inst.start()
    rcpt = f"{inst.uname}@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt])
    m = delivery(inst, qid, rcpt, "sent")
    assert m["relay"] == "testagent[[inside.example]]"
    reqs = journal(inst)
    assert reqs[0]["nexthop"] == "[inside.example]"
    assert not os.path.exists(mbox_path(inst))
    inst.wait_queue_empty()
    # unknown users too; the agent's deferral keeps the message queued
    qid = submit(inst, "alice@example.org", [f"zz@{HOST}"])
    m = delivery(inst, qid, f"zz@{HOST}", "deferred")
    assert m["dsn"] == "4.2.1" and m["text"] == "try later"


def test_mailbox_transport_unavailable_defers(inst):
    configure(inst, mailbox_transport="nosuchservice")
    inst.start()
    rcpt = f"{inst.uname}@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt])
    m = delivery(inst, qid, rcpt, "deferred")
    assert m["relay"] == "local" and m["dsn"] == "4.3.0"
    assert m["text"] == "mail transport unavailable"


def test_strict_mailbox_ownership(inst):
    path = mbox_path(inst)
    with open(path, "wb"):
        pass
    os.chown(path, 0, 0)  # the tests run as root; the instance does not
    os.chmod(path, 0o666)
    inst.start()
    rcpt = f"{inst.uname}@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt])
    m = delivery(inst, qid, rcpt, "deferred")
    assert m["dsn"] == "4.2.0"
    assert m["text"] == (f"cannot update mailbox {path} for user {inst.uname}. "
                         f"destination {path} is not owned by recipient")
    assert os.path.getsize(path) == 0
    inst.stop()
    configure(inst, strict_mailbox_ownership="no")
    inst.start()
    inst.run("postqueue", "-f", check=True)
    delivery(inst, qid, rcpt, "sent", timeout=30)
    assert len(postern.read_mbox(path)) == 1


def test_mailbox_size_limit(inst):
    configure(inst, mailbox_size_limit=20000, message_size_limit=10000)
    path = mbox_path(inst)
    with open(path, "wb") as f:
        f.write(b"From x  Mon Jan  1 00:00:00 2024\n" + b"x" * (19990 - 35) + b"\n\n")
    inst._own(path)
    os.chmod(path, 0o600)
    before = os.path.getsize(path)
    inst.start()
    rcpt = f"{inst.uname}@{HOST}"
    qid = submit(inst, "alice@example.org", [rcpt])
    m = delivery(inst, qid, rcpt, "bounced")
    assert m["dsn"] == "5.2.2"
    assert m["text"] == (f"cannot update mailbox {path} for user {inst.uname}. "
                         "error writing message: File too large")
    assert os.path.getsize(path) == before


def test_mailbox_size_limit_below_message_size_limit_is_fatal(inst):
    configure(inst, mailbox_size_limit=1000)
    inst.start()
    rcpt = f"{inst.uname}@{HOST}"
    submit(inst, "alice@example.org", [rcpt])
    inst.wait_log(r"fatal: configuration error: mailbox_size_limit is smaller than message_size_limit$")


def test_mailbox_command_environment_and_input(inst):
    out = os.path.join(inst.root, "cmd-out")
    os.makedirs(out)
    inst._own(out)
    script = os.path.join(inst.root, "deliver.sh")
    with open(script, "w") as f:
        f.write(f"#!/bin/sh\nenv > {out}/env\ncat > {out}/msg\npwd > {out}/pwd\n")
    os.chmod(script, 0o755)
    configure(inst, recipient_delimiter="+", mailbox_command=f'{script} "$EXTENSION"')
    inst.start()
    rcpt = f"{inst.uname}+a;b@{HOST}"
    env_path = "PATH=/caller/path"
    qid = submit(inst, "alice@example.org", [rcpt], body="From me\nbody\n")
    m = delivery(inst, qid, rcpt, "sent")
    assert m["text"] == f'delivered to command: {script} "$EXTENSION"'
    with open(os.path.join(out, "env")) as f:
        env = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    pw = user_of(inst)
    assert env["USER"] == inst.uname and env["LOGNAME"] == inst.uname
    assert env["EXTENSION"] == "a_b"
    assert env["LOCAL"] == f"{inst.uname}+a_b"
    assert env["DOMAIN"] == HOST
    assert env["RECIPIENT"] == f"{inst.uname}+a_b@{HOST}"
    assert env["SENDER"] == "alice@example.org"
    assert env["HOME"] == pw.pw_dir and env["SHELL"] == pw.pw_shell
    assert env.get("PATH") != env_path
    with open(os.path.join(out, "msg"), "rb") as f:
        msg = f.read()
    head = re.match(FROM_LINE % rb"alice@example\.org", msg)
    assert head, msg
    assert msg[head.end():].startswith(b"Return-Path: <alice@example.org>\n"
                                       + f"X-Original-To: {rcpt}\nDelivered-To: {rcpt}\n".encode())
    assert msg.endswith(b"\n\nFrom me\nbody\n")  # no quoting, no blank line
    with open(os.path.join(out, "pwd")) as f:
        assert f.read().strip() == inst.queue_dir


def test_mailbox_command_failures(inst):
    script = os.path.join(inst.root, "fail.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\ncase \"$EXTENSION\" in\n"
                "tempfail) exit 75;;\nunavail) echo no; exit 69;;\n*) exit 1;;\nesac\n")
    os.chmod(script, 0o755)
    configure(inst, recipient_delimiter="+", mailbox_command=script)
    inst.start()
    rcpt = f"{inst.uname}+tempfail@{HOST}"
    m = delivery(inst, submit(inst, "a@example.org", [rcpt]), rcpt, "deferred")
    assert m["dsn"] == "4.3.0" and m["text"] == "temporary failure"
    rcpt = f"{inst.uname}+unavail@{HOST}"
    m = delivery(inst, submit(inst, "a@example.org", [rcpt]), rcpt, "bounced")
    assert m["dsn"] == "5.3.0" and m["text"] == "service unavailable. Command output: no"
    rcpt = f"{inst.uname}+other@{HOST}"
    m = delivery(inst, submit(inst, "a@example.org", [rcpt]), rcpt, "bounced")
    assert m["text"] == f'Command died with status 1: "{script}"'


def test_system_mode_spool_ownership_and_command_privileges():
    inst = postern.Instance(system=True)
    try:
        nobody = pwd.getpwnam("nobody")
        out = os.path.join(inst.root, "out")
        os.makedirs(out)
        os.chmod(out, 0o777)
        os.chmod(inst.mail_dir, 0o755)  # not writable: created as root, given to the user
        script = os.path.join(inst.root, "id.sh")
        with open(script, "w") as f:
            f.write(f"#!/bin/sh\n/usr/bin/id -u > {out}/root\n")
        os.chmod(script, 0o755)
        inst.settings["mailbox_command_maps"] = f"inline:{{root={script}}}"
        inst.write_main_cf("")
        inst.start()
        rcpt = f"nobody@{HOST}"
        qid = submit(inst, "alice@example.org", [rcpt])
        assert delivery(inst, qid, rcpt, "sent")["text"] == "delivered to mailbox"
        st = os.stat(os.path.join(inst.mail_dir, "nobody"))
        assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid)
        assert stat.S_IMODE(st.st_mode) == 0o600
        # root's mailbox_command runs as default_privs (nobody)
        rcpt = f"root@{HOST}"
        qid = submit(inst, "alice@example.org", [rcpt])
        delivery(inst, qid, rcpt, "sent")
        with open(os.path.join(out, "root")) as f:
            assert f.read().strip() == str(nobody.pw_uid)
    finally:
        inst.close()
