"""End-to-end tests of the virtual(8) delivery agent (delivery.md 3, 1, 2.6;
acceptance check 19).

Each instance hosts the domain v.test with virtual_mailbox_base under the
instance root and inline: tables: a Maildir user, mbox users, a catch-all
and the sender's own mailbox (so that bounce notices are delivered by
virtual(8) too and can be read). Mail is queued with cleanup_submit (exact
content, no smtpd checks) and the tests read what a user would read: the
mailbox bytes and the delivery log lines.

Rootless, the agent writes as the instance's user, so virtual_uid_maps
maps to that user's uid (virtual_minimum_uid lowered when that uid is
below 100). The system-mode test (root only) checks that a mailbox is
created with the mapped uid/gid.
"""
import os
import pwd
import re
import stat

import pytest

import postern

QID = r"[0-9A-F]{6,}"
FROM_LINE = re.compile(rb"^From sender@v\.test  (Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
                       rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d "
                       rb"\d\d:\d\d:\d\d \d{4}\n")

MAILBOXES = {
    "m@v.test": "v.test/m/",          # Maildir
    "a@v.test": "v.test/a",           # mbox
    "sender@v.test": "v.test/sender",  # bounce notices land here
    "@v.test": "v.test/catch",        # catch-all
}


def inline(table):
    return "inline:{" + ", ".join(f"{k}={v}" for k, v in table.items()) + "}"


def instance_uid(inst):
    return inst.user.pw_uid if inst.user is not None else os.getuid()


def instance_gid(inst):
    return inst.user.pw_gid if inst.user is not None else os.getgid()


def setup_virtual(inst, uid, gid, extra=None):
    """Configure v.test for INST with mailboxes owned by UID/GID; returns
    the mailbox base directory."""
    base = os.path.join(inst.root, "vmail")
    for d in (base, os.path.join(base, "v.test")):
        os.makedirs(d, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(d, uid, gid)
    inst.settings.update({
        "virtual_mailbox_domains": "v.test",
        "virtual_mailbox_base": base,
        "virtual_mailbox_maps": inline(MAILBOXES),
        "virtual_uid_maps": f"static:{uid}",
        "virtual_gid_maps": f"static:{gid}",
        "virtual_minimum_uid": str(min(100, uid)),
        "recipient_delimiter": "+",
    })
    inst.settings.update(extra or {})
    inst.write_main_cf("")
    return base


@pytest.fixture
def vinst(make_instance):
    inst = make_instance()
    inst.base = setup_virtual(inst, instance_uid(inst), instance_gid(inst))
    inst.start()
    return inst


def message(subject="hello", body="line one\nFrom the start\n>From quoted\nlast\n"):
    return ("From: Sender <sender@v.test>\n"
            "To: someone@v.test\n"
            f"Subject: {subject}\n"
            "Date: Mon, 21 Nov 2022 13:57:00 +0000\n"
            "Message-ID: <m1@client.example>\n"
            "\n" + body)


def submit(inst, recipients, content=None, sender="sender@v.test"):
    res = inst.cleanup_submit(sender, recipients, content or message())
    assert res["status"] == 0, res
    return res["queue_id"]


def log_line(qid, rcpt, status, dsn, text, orig=None):
    """The delivery log line regex of delivery.md 1 with relay=virtual."""
    orig_part = rf"orig_to=<{re.escape(orig)}>, " if orig else ""
    return (rf"postfix/virtual\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, {orig_part}relay=virtual, "
            rf"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn={re.escape(dsn)}, "
            rf"status={status} \({re.escape(text)}\)$")


def expected_body(quoted):
    gt = b">" if quoted else b""
    return (b"From: Sender <sender@v.test>\n"
            b"To: someone@v.test\n"
            b"Subject: hello\n"
            b"Date: Mon, 21 Nov 2022 13:57:00 +0000\n"
            b"Message-ID: <m1@client.example>\n"
            b"\n"
            b"line one\n" + gt + b"From the start\n"
            b">From quoted\n"
            b"last\n")


def test_mbox_delivery_exact_bytes_and_append(vinst):
    """mbox: From_ line, Return-Path, X-Original-To (as given), Delivered-To
    (lower case), >From quoting, one empty line; a second message is
    appended to the same file."""
    mark = vinst.log_mark()
    qid = submit(vinst, ["A@V.test"])
    vinst.wait_log(log_line(qid, "A@V.test", "sent", "2.0.0", "delivered to mailbox"), since=mark)
    path = os.path.join(vinst.base, "v.test", "a")
    msgs = postern.read_mbox(path)
    assert len(msgs) == 1
    assert FROM_LINE.match(msgs[0]), msgs[0]
    rest = msgs[0].split(b"\n", 1)[1]
    assert rest == (b"Return-Path: <sender@v.test>\n"
                    b"X-Original-To: A@V.test\n"
                    b"Delivered-To: a@v.test\n" + expected_body(True) + b"\n")

    mark = vinst.log_mark()
    qid2 = submit(vinst, ["a+ext@v.test"])
    vinst.wait_log(log_line(qid2, "a+ext@v.test", "sent", "2.0.0", "delivered to mailbox"), since=mark)
    msgs2 = postern.read_mbox(path)
    assert len(msgs2) == 2
    assert msgs2[0] == msgs[0]
    assert b"\nDelivered-To: a+ext@v.test\n" in msgs2[1]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    vinst.wait_queue_empty()


def test_maildir_delivery(vinst):
    """A result ending in "/" is a Maildir: one file in new/, no From_ line
    and no quoting; tmp/ is left empty."""
    mark = vinst.log_mark()
    qid = submit(vinst, ["m@v.test"])
    vinst.wait_log(log_line(qid, "m@v.test", "sent", "2.0.0", "delivered to maildir"), since=mark)
    maildir = os.path.join(vinst.base, "v.test", "m")
    new = os.listdir(os.path.join(maildir, "new"))
    assert len(new) == 1
    assert os.listdir(os.path.join(maildir, "tmp")) == []
    with open(os.path.join(maildir, "new", new[0]), "rb") as f:
        data = f.read()
    assert data == (b"Return-Path: <sender@v.test>\n"
                    b"X-Original-To: m@v.test\n"
                    b"Delivered-To: m@v.test\n" + expected_body(False))


def test_catch_all_and_several_recipients(vinst):
    """Unlisted users of v.test go to the @v.test catch-all; each recipient
    of one message gets its own copy and log line."""
    mark = vinst.log_mark()
    qid = submit(vinst, ["x@v.test", "y@v.test", "m@v.test"])
    for rcpt, text in (("x@v.test", "delivered to mailbox"), ("y@v.test", "delivered to mailbox"),
                       ("m@v.test", "delivered to maildir")):
        vinst.wait_log(log_line(qid, rcpt, "sent", "2.0.0", text), since=mark)
    msgs = postern.read_mbox(os.path.join(vinst.base, "v.test", "catch"))
    assert sorted(re.search(rb"\nDelivered-To: (\S+)\n", m).group(1) for m in msgs) == [b"x@v.test",
                                                                                      b"y@v.test"]
    assert len(postern.read_maildir(os.path.join(vinst.base, "v.test", "m"))) == 1
    vinst.wait_queue_empty()


def test_unknown_user_bounces_with_notice(make_instance):
    """Without a catch-all, an unlisted user bounces 5.1.1 'unknown user:
    "ADDR"'; the notice reaches the sender's virtual mailbox."""
    inst = make_instance()
    uid, gid = instance_uid(inst), instance_gid(inst)
    inst.base = setup_virtual(inst, uid, gid, {
        "virtual_mailbox_maps": inline({k: v for k, v in MAILBOXES.items() if k != "@v.test"})})
    inst.start()
    mark = inst.log_mark()
    qid = submit(inst, ["Nobody@v.test"])
    inst.wait_log(log_line(qid, "Nobody@v.test", "bounced", "5.1.1", 'unknown user: "nobody@v.test"'),
                  since=mark)
    m = inst.wait_log(rf"postfix/bounce\[\d+\]: {qid}: sender non-delivery notification: ({QID})$",
                      since=mark)
    inst.wait_log(log_line(m.group(1), "sender@v.test", "sent", "2.0.0", "delivered to mailbox"), since=mark)
    notices = postern.read_mbox(os.path.join(inst.base, "v.test", "sender"))
    assert len(notices) == 1
    assert notices[0].startswith(b"From MAILER-DAEMON  ")
    assert b"\nReturn-Path: <>\n" in notices[0]
    assert b'unknown user: "nobody@v.test"' in notices[0]
    inst.wait_queue_empty()


def test_uid_below_minimum_defers(make_instance):
    """A uid below virtual_minimum_uid defers 4.3.5 with a warning; nothing
    is written."""
    inst = make_instance()
    uid, gid = instance_uid(inst), instance_gid(inst)
    inst.base = setup_virtual(inst, uid, gid, {"virtual_minimum_uid": str(uid + 1)})
    inst.start()
    mark = inst.log_mark()
    qid = submit(inst, ["a@v.test"])
    inst.wait_log(rf"postfix/virtual\[\d+\]: warning: recipient a@v\.test: bad uid {uid} "
                  rf"in virtual_uid_maps$", since=mark)
    inst.wait_log(log_line(qid, "a@v.test", "deferred", "4.3.5", "mail system configuration error"),
                  since=mark)
    assert not os.path.exists(os.path.join(inst.base, "v.test", "a"))


def test_missing_uid_defers(make_instance):
    """A recipient not in virtual_uid_maps defers 4.3.5 with a warning."""
    inst = make_instance()
    uid, gid = instance_uid(inst), instance_gid(inst)
    inst.base = setup_virtual(inst, uid, gid, {"virtual_uid_maps": f"inline:{{m@v.test={uid}}}"})
    inst.start()
    mark = inst.log_mark()
    qid = submit(inst, ["a@v.test"])
    inst.wait_log(r"postfix/virtual\[\d+\]: warning: recipient a@v\.test: not found in virtual_uid_maps$",
                  since=mark)
    inst.wait_log(log_line(qid, "a@v.test", "deferred", "4.3.5", "mail system configuration error"),
                  since=mark)


def test_mailbox_limit_bounces_and_truncates(make_instance):
    """A write past virtual_mailbox_limit bounces 5.2.2 and the mbox is cut
    back to its length before the delivery."""
    inst = make_instance()
    uid, gid = instance_uid(inst), instance_gid(inst)
    inst.base = setup_virtual(inst, uid, gid, {"message_size_limit": "4000",
                                               "virtual_mailbox_limit": "4000"})
    inst.start()
    path = os.path.join(inst.base, "v.test", "a")
    body = "x" * 70 + "\n"
    mark = inst.log_mark()
    qid = submit(inst, ["a@v.test"], message(body=body * 28))
    inst.wait_log(log_line(qid, "a@v.test", "sent", "2.0.0", "delivered to mailbox"), since=mark)
    size = os.path.getsize(path)
    assert 2000 < size < 2500
    qid2 = submit(inst, ["a@v.test"], message(body=body * 28))
    inst.wait_log(log_line(qid2, "a@v.test", "bounced", "5.2.2",
                           f"delivery failed to mailbox {path}: error writing message: File too large"),
                  since=mark)
    assert os.path.getsize(path) == size
    assert len(postern.read_mbox(path)) == 1


def test_delivered_to_is_not_a_loop_for_virtual(vinst):
    """Like Postfix's virtual(8), which has no Delivered-To check (local and
    pipe have one): a message already carrying Delivered-To: a@v.test is
    delivered again, with a second Delivered-To: on top."""
    content = "Delivered-To: a@v.test\n" + message()
    mark = vinst.log_mark()
    qid = submit(vinst, ["a@v.test"], content)
    vinst.wait_log(log_line(qid, "a@v.test", "sent", "2.0.0", "delivered to mailbox"), since=mark)
    msgs = postern.read_mbox(os.path.join(vinst.base, "v.test", "a"))
    assert msgs[0].count(b"Delivered-To: a@v.test\n") == 2


def test_system_mode_mailbox_owned_by_mapped_uid(make_instance):
    """As root, virtual(8) writes each mailbox as the mapped uid/gid: a new
    mbox file and Maildir files belong to that user."""
    nobody = pwd.getpwnam("nobody")
    inst = make_instance(system=True)
    inst.base = setup_virtual(inst, nobody.pw_uid, nobody.pw_gid)
    inst.postfix("check", check=True)
    inst.start()
    mark = inst.log_mark()
    qid = submit(inst, ["a@v.test", "m@v.test"])
    inst.wait_log(log_line(qid, "a@v.test", "sent", "2.0.0", "delivered to mailbox"), since=mark)
    inst.wait_log(log_line(qid, "m@v.test", "sent", "2.0.0", "delivered to maildir"), since=mark)
    st = os.stat(os.path.join(inst.base, "v.test", "a"))
    assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid)
    new = os.path.join(inst.base, "v.test", "m", "new")
    files = os.listdir(new)
    assert len(files) == 1
    st = os.stat(os.path.join(new, files[0]))
    assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid)
    # strict_mailbox_ownership (default yes): an mbox the mapped user may
    # write but does not own is not touched.
    catch = os.path.join(inst.base, "v.test", "catch")
    with open(catch, "wb"):
        pass
    os.chmod(catch, 0o666)
    mark = inst.log_mark()
    qid = submit(inst, ["x@v.test"])
    inst.wait_log(r"postfix/virtual\[\d+\]: warning: specify \"strict_mailbox_ownership = no\" to ignore "
                  r"mailbox ownership mismatch$", since=mark)
    inst.wait_log(log_line(qid, "x@v.test", "deferred", "4.2.0",
                           f"destination {catch} is not owned by recipient"), since=mark)
    assert os.path.getsize(catch) == 0


def test_mailbox_lookup_failure_defers(make_instance):
    """A virtual_mailbox_maps table that cannot be searched is never "unknown
    user": the recipient is deferred 4.3.5 with a warning."""
    inst = make_instance()
    uid, gid = instance_uid(inst), instance_gid(inst)
    missing = os.path.join(inst.root, "no-such-table")
    inst.base = setup_virtual(inst, uid, gid, {"virtual_mailbox_maps": f"texthash:{missing}"})
    inst.start()
    mark = inst.log_mark()
    qid = submit(inst, ["a@v.test"])
    inst.wait_log(r"postfix/virtual\[\d+\]: warning: table virtual_mailbox_maps: lookup a@v\.test: ",
                  since=mark)
    inst.wait_log(log_line(qid, "a@v.test", "deferred", "4.3.5", "mail system configuration error"),
                  since=mark)
    assert "status=bounced" not in inst.log()[mark:]


def test_regexp_table_sees_the_full_address(make_instance):
    """A regexp virtual_mailbox_maps gets the whole address (with its
    extension), nothing else."""
    inst = make_instance()
    uid, gid = instance_uid(inst), instance_gid(inst)
    table = inst.write_file(os.path.join(inst.root, "vmailbox.regexp"),
                            "/^r\\+list@v\\.test$/ v.test/list\n/^r@v\\.test$/ v.test/r\n")
    inst.base = setup_virtual(inst, uid, gid, {"virtual_mailbox_maps": f"regexp:{table}"})
    inst.start()
    mark = inst.log_mark()
    qid = submit(inst, ["r+list@v.test", "r+other@v.test"])
    inst.wait_log(log_line(qid, "r+list@v.test", "sent", "2.0.0", "delivered to mailbox"), since=mark)
    inst.wait_log(log_line(qid, "r+other@v.test", "bounced", "5.1.1", 'unknown user: "r+other@v.test"'),
                  since=mark)
    assert len(postern.read_mbox(os.path.join(inst.base, "v.test", "list"))) == 1
    assert not os.path.exists(os.path.join(inst.base, "v.test", "r"))
