"""End-to-end tests of the bounce, defer and trace services (queue.md 7).

Each test starts an instance whose master.cf has no qmgr line, so queued
mail and the notices stay in incoming/. A message is queued through
cleanup, then the test speaks the bounce protocol (src/global/bounce.h,
attr.h encoding) to private/bounce, private/defer or private/trace: append
entries, then flush, warn or trace. The notice is read back with postcat
and parsed with Python's email package.
"""

import email
import email.policy
import os
import re
import socket

import pytest

from postern import Instance

DEL_REQ_FLAG_MTA_VRFY = 1 << 9
DSN_NOTIFY_NEVER = 1
DSN_NOTIFY_SUCCESS = 2
DSN_NOTIFY_FAILURE = 4

ORIGINAL = (
    "From: Alice <alice@sender.test>\n"
    "To: bob@bad.test\n"
    "Subject: hello there\n"
    "Message-ID: <orig1@sender.test>\n"
    "\n"
    "first body line\n"
    "second body line\n"
)


def master_cf_without_qmgr(inst):
    return "".join(line + "\n" for line in inst.default_master_cf().splitlines()
                   if not line.startswith("qmgr "))


@pytest.fixture
def inst():
    i = Instance()
    i.write_master_cf(master_cf_without_qmgr(i))
    yield i
    err = i.close()
    assert err is None, err


def start(inst, **params):
    if params:
        inst.update_main_cf({k: str(v) for k, v in params.items()})
    inst.start()


def queue_original(inst, sender="alice@sender.test", content=ORIGINAL,
                   recipients=("bob@bad.test", "carol@bad.test")):
    res = inst.cleanup_submit(sender, list(recipients), content)
    assert res["status"] == 0, res
    return res["queue_id"]


def bounce_request(inst, service, attrs):
    """One request to private/SERVICE; returns the answer's status (int)."""
    data = b"".join(k.encode() + b"\0" + str(v).encode() + b"\0" for k, v in attrs) + b"\0"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    try:
        sock.connect(os.path.join(inst.queue_dir, "private", service))
        sock.sendall(data)
        reader = sock.makefile("rb")
        answer, name, buf = {}, None, bytearray()
        while True:
            ch = reader.read(1)
            assert ch, "bounce service closed the connection without an answer"
            if ch != b"\0":
                buf += ch
                continue
            if name is None:
                if not buf:
                    break
                name, buf = buf.decode(), bytearray()
            else:
                answer[name], name, buf = buf.decode(), None, bytearray()
    finally:
        sock.close()
    return int(answer["status"])


def append(inst, service, qid, rcpt, status, reason, orig="", notify=0, action="failed",
           dtype="", dtext="", mtype="", mname=""):
    return bounce_request(inst, service, [
        ("request", "append"), ("flags", 0), ("queue_id", qid),
        ("original_recipient", orig), ("recipient", rcpt),
        ("dsn_orig_rcpt", f"rfc822;{orig or rcpt}"), ("dsn_notify", notify), ("offset", 0),
        ("dsn_status", status), ("action", action), ("reason", reason),
        ("diag_type", dtype), ("diag_text", dtext), ("mta_type", mtype), ("mta_name", mname),
        ("log_time", 1763712345)])


def flush(inst, service, request, qid, sender="alice@sender.test", flags=0, ret=0):
    return bounce_request(inst, service, [
        ("request", request), ("flags", flags), ("queue_name", "incoming"), ("queue_id", qid),
        ("encoding", ""), ("smtputf8", 0), ("sender", sender), ("envelope_id", ""),
        ("dsn_ret", ret)])


def notices(inst, original):
    """{queue_id: (envelope text, email.message.Message)} of the new messages."""
    out = {}
    for qid in inst.queue_ids("incoming"):
        if qid == original:
            continue
        env = inst.postcat(qid, "-e")
        content = inst.postcat(qid, "-bh")
        out[qid] = (env, email.message_from_string(content, policy=email.policy.compat32))
    return out


def parts(msg):
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    payload = msg.get_payload()
    assert isinstance(payload, list)
    return payload


def status_groups(part):
    """The message/delivery-status part as [per-message dict, per-recipient dicts...]."""
    groups = part.get_payload()
    return [dict(g.items()) for g in groups]


def log_dir_files(inst, name):
    found = []
    for dirpath, _, files in os.walk(os.path.join(inst.queue_dir, name)):
        found += files
    return found


def test_flush_sends_non_delivery_notice(inst):
    start(inst)
    qid = queue_original(inst)
    assert append(inst, "bounce", qid, "bob@bad.test", "5.1.1",
                  "host mx.bad.test[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)",
                  dtype="smtp", dtext="550 5.1.1 no such user", mtype="dns", mname="mx.bad.test") == 0
    assert append(inst, "bounce", qid, "carol@bad.test", "5.1.1", "unknown user: \"carol\"",
                  orig="carol-alias@bad.test", dtype="x-unix", dtext="unknown user: \"carol\"") == 0
    assert log_dir_files(inst, "bounce") == [qid]
    mark = inst.log_mark()
    assert flush(inst, "bounce", "flush", qid) == 0
    m = inst.wait_log(rf"{qid}: sender non-delivery notification: (\w+)", since=mark)
    new_id = m.group(1)
    assert log_dir_files(inst, "bounce") == []

    found = notices(inst, qid)
    assert list(found) == [new_id]
    env, msg = found[new_id]
    assert re.search(r"^sender: $", env, re.M)
    assert re.search(r"^recipient: alice@sender.test$", env, re.M)
    assert msg["From"] == "Mail Delivery System <MAILER-DAEMON@mail.example.com>"
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["To"] == "alice@sender.test"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Message-Id"]
    assert msg.get_param("boundary").startswith(f"{qid}.")
    assert msg.get_param("boundary").endswith("/mail.example.com")

    text, report, original = parts(msg)
    assert text["Content-Description"] == "Notification"
    body = text.get_payload()
    assert body.startswith("This is the mail system at host mail.example.com.\n")
    assert "The mail system\n" in body
    assert "<bob@bad.test>: host mx.bad.test[192.0.2.1] said: 550 5.1.1 no such user (in\n" \
           "    reply to RCPT TO command)" in body
    assert '<carol@bad.test> (expanded from <carol-alias@bad.test>): unknown user:\n' \
           '    "carol"\n' in body

    assert report.get_content_type() == "message/delivery-status"
    assert report["Content-Description"] == "Delivery report"
    groups = status_groups(report)
    assert groups[0]["Reporting-MTA"] == "dns; mail.example.com"
    assert groups[0]["X-Postfix-Queue-ID"] == qid
    assert groups[0]["X-Postfix-Sender"] == "rfc822; alice@sender.test"
    assert re.match(r"\w{3}, [ \d]\d \w{3} \d{4} ", groups[0]["Arrival-Date"])
    assert groups[1] == {
        "Final-Recipient": "rfc822; bob@bad.test",
        "Original-Recipient": "rfc822;bob@bad.test",
        "Action": "failed",
        "Status": "5.1.1",
        "Remote-MTA": "dns; mx.bad.test",
        "Diagnostic-Code": "smtp; 550 5.1.1 no such user",
    }
    assert groups[2]["Final-Recipient"] == "rfc822; carol@bad.test"
    assert groups[2]["Original-Recipient"] == "rfc822;carol-alias@bad.test"
    assert groups[2]["Diagnostic-Code"] == 'x-unix; unknown user: "carol"'
    assert "Remote-MTA" not in groups[2]

    assert original.get_content_type() == "message/rfc822"
    assert original["Content-Description"] == "Undelivered Message"
    inner = original.get_payload()[0]
    assert inner["Return-Path"] == "<alice@sender.test>"
    assert inner["Message-ID"] == "<orig1@sender.test>"
    assert "second body line" in inner.get_payload()


def test_notify_never_and_missing_log(inst):
    start(inst)
    qid = queue_original(inst)
    assert append(inst, "bounce", qid, "bob@bad.test", "5.1.1", "no", notify=DSN_NOTIFY_NEVER) == 0
    mark = inst.log_mark()
    assert flush(inst, "bounce", "flush", qid) == 0
    assert notices(inst, qid) == {}
    assert "notification" not in inst.log()[mark:]
    assert log_dir_files(inst, "bounce") == []
    # A bad queue ID is refused, not a crash.
    assert flush(inst, "bounce", "flush", "../etc") == -1
    assert append(inst, "bounce", "ABC/DEF", "x@y", "5.0.0", "x") == -1


def test_size_limit_attaches_headers_only(inst):
    start(inst, bounce_size_limit=100)
    qid = queue_original(inst, content=ORIGINAL + "x" * 500 + "\n")
    assert append(inst, "bounce", qid, "bob@bad.test", "5.1.1", "no such user") == 0
    assert flush(inst, "bounce", "flush", qid) == 0
    (env, msg), = notices(inst, qid).values()
    original = parts(msg)[2]
    assert original.get_content_type() == "text/rfc822-headers"
    assert original["Content-Description"] == "Undelivered Message Headers"
    payload = original.get_payload()
    assert "Message-ID: <orig1@sender.test>" in payload
    assert "first body line" not in payload


def test_null_sender_gets_no_notice(inst):
    start(inst)
    SENDER = ""
    qid = queue_original(inst, sender=SENDER)
    assert append(inst, "bounce", qid, "bob@bad.test", "5.1.1", "no such user") == 0
    mark = inst.log_mark()
    assert flush(inst, "bounce", "flush", qid, sender=SENDER) == 0
    assert notices(inst, qid) == {}
    assert "notification" not in inst.log()[mark:]
    assert log_dir_files(inst, "bounce") == []


def test_double_bounce_sender_is_discarded(inst):
    start(inst, notify_classes="bounce")
    SENDER = "double-bounce@mail.example.com"
    qid = queue_original(inst, sender=SENDER)
    assert append(inst, "bounce", qid, "postmaster@x.test", "5.1.1", "no") == 0
    mark = inst.log_mark()
    assert flush(inst, "bounce", "flush", qid, sender=SENDER) == 0
    inst.wait_log(rf"warning: {qid}: undeliverable postmaster notification discarded", since=mark)
    assert notices(inst, qid) == {}


def test_null_sender_2bounce_to_postmaster(inst):
    start(inst, notify_classes="2bounce")
    SENDER = ""
    qid = queue_original(inst, sender=SENDER)
    assert append(inst, "bounce", qid, "bob@bad.test", "5.1.1", "no such user") == 0
    mark = inst.log_mark()
    assert flush(inst, "bounce", "flush", qid, sender=SENDER) == 0
    inst.wait_log(rf"{qid}: postmaster non-delivery notification: \w+", since=mark)
    (env, msg), = notices(inst, qid).values()
    assert re.search(r"^sender: double-bounce@mail.example.com$", env, re.M)
    assert msg["Subject"] == "Postmaster Copy: Undelivered Mail"


def test_notify_classes_bounce_postmaster_copy(inst):
    start(inst, notify_classes="bounce")
    qid = queue_original(inst)
    assert append(inst, "bounce", qid, "bob@bad.test", "5.1.1", "no such user") == 0
    mark = inst.log_mark()
    assert flush(inst, "bounce", "flush", qid) == 0
    sender_id = inst.wait_log(rf"{qid}: sender non-delivery notification: (\w+)", since=mark).group(1)
    pm_id = inst.wait_log(rf"{qid}: postmaster non-delivery notification: (\w+)", since=mark).group(1)
    found = notices(inst, qid)
    assert sorted(found) == sorted([sender_id, pm_id])
    env, msg = found[pm_id]
    assert re.search(r"^sender: double-bounce@mail.example.com$", env, re.M)
    assert re.search(r"^recipient: postmaster", env, re.M)
    assert msg["Subject"] == "Postmaster Copy: Undelivered Mail"
    text, report, original = parts(msg)
    assert "This is the mail system" not in text.get_payload()
    assert "<bob@bad.test>: no such user" in text.get_payload()
    assert original.get_content_type() == "text/rfc822-headers"


def test_defer_warn_and_expiry(inst):
    start(inst, delay_warning_time="4h")
    qid = queue_original(inst, recipients=["dave@later.test"])
    assert append(inst, "defer", qid, "dave@later.test", "4.4.1", "connect to later.test: Connection refused",
                  action="delayed") == 0
    assert log_dir_files(inst, "defer") == [qid]
    mark = inst.log_mark()
    assert flush(inst, "defer", "warn", qid) == 0
    new_id = inst.wait_log(rf"{qid}: sender delay notification: (\w+)", since=mark).group(1)
    assert log_dir_files(inst, "defer") == [qid]  # the log stays
    env, msg = notices(inst, qid)[new_id]
    assert msg["Subject"] == "Delayed Mail (still being retried)"
    text, report, original = parts(msg)
    assert "Your message could not be delivered for more than 4 hour(s)." in text.get_payload()
    assert "It will be retried until it is 5 day(s) old." in text.get_payload()
    rcpt = status_groups(report)[1]
    assert rcpt["Action"] == "delayed"
    assert rcpt["Status"] == "4.4.1"
    assert re.match(r"\w{3}, ", rcpt["Will-Retry-Until"])
    assert original.get_content_type() == "text/rfc822-headers"
    assert "first body line" not in original.get_payload()

    # At expiry the defer log becomes a non-delivery notice ("failed").
    mark = inst.log_mark()
    assert flush(inst, "defer", "flush", qid) == 0
    bounce_id = inst.wait_log(rf"{qid}: sender non-delivery notification: (\w+)", since=mark).group(1)
    assert log_dir_files(inst, "defer") == []
    env, msg = notices(inst, qid)[bounce_id]
    rcpt = status_groups(parts(msg)[1])[1]
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "4.4.1"


def test_trace_verify_report(inst):
    start(inst)
    qid = queue_original(inst, recipients=["alice@mail.example.com"])
    assert append(inst, "trace", qid, "alice@mail.example.com", "2.0.0",
                  "delivery via local: delivers to mailbox", action="deliverable") == 0
    assert append(inst, "trace", qid, "bob@bad.test", "5.1.1", "no such user",
                  action="undeliverable") == 0
    mark = inst.log_mark()
    assert flush(inst, "trace", "trace", qid, flags=DEL_REQ_FLAG_MTA_VRFY) == 0
    new_id = inst.wait_log(rf"{qid}: sender delivery status notification: (\w+)", since=mark).group(1)
    assert log_dir_files(inst, "trace") == []
    env, msg = notices(inst, qid)[new_id]
    assert msg["Subject"] == "Mail Delivery Status Report"
    text, report, headers = parts(msg)
    assert "Enclosed is the mail delivery report that you requested." in text.get_payload()
    assert "<alice@mail.example.com>: delivery via local: delivers to mailbox" in text.get_payload()
    groups = status_groups(report)
    assert [g["Action"] for g in groups[1:]] == ["deliverable", "undeliverable"]
    assert headers["Content-Description"] == "Message Headers"


def test_trace_success_notice_only_for_notify_success(inst):
    start(inst)
    qid = queue_original(inst)
    assert append(inst, "trace", qid, "bob@bad.test", "2.0.0", "delivered to mailbox",
                  action="delivered", notify=DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE) == 0
    assert append(inst, "trace", qid, "carol@bad.test", "2.0.0", "delivered to mailbox",
                  action="delivered", notify=DSN_NOTIFY_FAILURE) == 0
    mark = inst.log_mark()
    assert flush(inst, "trace", "trace", qid) == 0
    new_id = inst.wait_log(rf"{qid}: sender delivery status notification: (\w+)", since=mark).group(1)
    env, msg = notices(inst, qid)[new_id]
    assert msg["Subject"] == "Successful Mail Delivery Report"
    groups = status_groups(parts(msg)[1])
    assert [g["Final-Recipient"] for g in groups[1:]] == ["rfc822; bob@bad.test"]


def test_bounce_template_file(inst):
    path = os.path.join(inst.config_dir, "bounce.cf")
    inst.write_file(path, "failure_template = <<EOF\n"
                          "Charset: iso-8859-1\n"
                          "From: Bounce Robot <bounces>\n"
                          "Subject: Sorry, your mail bounced\n"
                          "\n"
                          "Mail system of $myhostname, warning after $delay_warning_time_hours hours.\n"
                          "EOF\n")
    start(inst, bounce_template_file=path, delay_warning_time="3h")
    qid = queue_original(inst)
    assert append(inst, "bounce", qid, "bob@bad.test", "5.1.1", "no such user") == 0
    assert bounce_request(inst, "bounce", [
        ("request", "flush"), ("flags", 0), ("queue_name", "incoming"), ("queue_id", qid),
        ("encoding", ""), ("smtputf8", 0), ("sender", "alice@sender.test"),
        ("envelope_id", "ENV-42"), ("dsn_ret", 0)]) == 0
    (env, msg), = notices(inst, qid).values()
    assert msg["Subject"] == "Sorry, your mail bounced"
    assert msg["From"] == "Bounce Robot <bounces@mail.example.com>"
    text, report, original = parts(msg)
    assert text.get_param("charset") == "iso-8859-1"
    assert text.get_payload().startswith(
        "Mail system of mail.example.com, warning after 3 hours.\n\n<bob@bad.test>: no such user")
    assert status_groups(report)[0]["Original-Envelope-Id"] == "ENV-42"


def test_one_immediate_notice_without_log(inst):
    start(inst)
    qid = queue_original(inst)
    mark = inst.log_mark()
    assert bounce_request(inst, "bounce", [
        ("request", "one"), ("flags", 0), ("queue_name", "incoming"), ("queue_id", qid),
        ("encoding", ""), ("smtputf8", 0), ("sender", "alice@sender.test"), ("envelope_id", ""),
        ("dsn_ret", 2), ("original_recipient", "bob@bad.test"), ("recipient", "bob@bad.test"),
        ("dsn_orig_rcpt", ""), ("dsn_notify", 0), ("offset", 0), ("dsn_status", "5.7.1"),
        ("action", "failed"), ("reason", "message content rejected"), ("diag_type", ""),
        ("diag_text", ""), ("mta_type", ""), ("mta_name", ""), ("log_time", 0)]) == 0
    new_id = inst.wait_log(rf"{qid}: sender non-delivery notification: (\w+)", since=mark).group(1)
    env, msg = notices(inst, qid)[new_id]
    text, report, original = parts(msg)
    assert "<bob@bad.test>: message content rejected" in text.get_payload()
    assert status_groups(report)[1]["Status"] == "5.7.1"
    assert original.get_content_type() == "text/rfc822-headers"  # RET=HDRS
    assert log_dir_files(inst, "bounce") == []


def test_malformed_requests_do_not_stop_the_service(inst):
    start(inst)
    qid = queue_original(inst)
    for junk in (b"request\0", b"\xff\xfe garbage", b"request\0flush\0queue_id\0" + b"A" * 100 + b"\0\0"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(30)
        sock.connect(os.path.join(inst.queue_dir, "private", "bounce"))
        sock.sendall(junk)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(100)
        sock.close()
    assert bounce_request(inst, "bounce", [("request", "nonsense"), ("queue_id", qid)]) == -1
    assert flush(inst, "bounce", "flush", qid, sender="alice@sender.test") == 0
    assert append(inst, "bounce", qid, "bob@bad.test", "5.1.1", "no such user") == 0
    assert flush(inst, "bounce", "flush", qid) == 0
    inst.wait_log(rf"{qid}: sender non-delivery notification: \w+")
    assert "panic" not in inst.log()
