"""The error, retry and discard delivery agents and the scriptable
testagent, driven directly over their private/ sockets with the delivery
request protocol (deliver_request.h; delivery.md sections 1 and 5).

No queue manager runs (master.cf lists cleanup and the agents only), so
the test plays the queue manager: it queues a message with
Instance.cleanup_submit, finds the RCPT and MESG record offsets in the
queue file, sends one request and reads the answer (status, hop_status,
hop_reason). The bounce, defer and trace services are not in master.cf
either: a bounce therefore turns into the deferral "4.3.0 bounce or trace
service failure" (bounce.h), which is itself checked, and a deferral is
logged as usual with a warning about the defer service.

Results are read as an administrator would: the delivery log line, the
answer, and whether the recipient record became DONE in the queue file.
"""

import json
import os
import re
import socket
import time

import pytest

import postern


DELAYS = r"delay=\d+(\.\d+)?, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+"


def attr_message(attrs):
    """One attr.h message from (name, value) pairs."""
    out = b""
    for name, value in attrs:
        out += name.encode() + b"\0" + str(value).encode() + b"\0"
    return out + b"\0"


class Agents:
    """An instance running cleanup and the agents; the test is the qmgr."""

    def __init__(self, inst):
        self.inst = inst
        self.rules = os.path.join(inst.root, "rules")
        self.journal = os.path.join(inst.root, "journal")
        self.save_dir = os.path.join(inst.root, "saved")
        inst.write_file(self.rules, "")
        inst.write_file(self.journal, "")
        os.makedirs(self.save_dir)
        inst._own(self.save_dir)

    def submit(self, recipients, sender="sender@example.com", body="hello\n"):
        """Queue a message in incoming/; return its queue ID."""
        r = self.inst.cleanup_submit(sender, recipients,
                                     f"Subject: agent test\n\n{body}")
        assert r["status"] == 0, r
        return r["queue_id"]

    def queue_path(self, qid):
        return os.path.join(self.inst.queue_dir, "incoming", qid)

    def records(self, qid):
        with open(self.queue_path(qid), "rb") as f:
            return postern.decode_records(f.read(), offsets=True)

    def recipients(self, qid):
        """[(offset, type, address, original)] of the envelope recipients."""
        out, orig = [], ""
        for offset, rtype, data in self.records(qid):
            if rtype == "O":
                orig = data.decode()
            elif rtype in "RD":
                out.append((offset, rtype, data.decode(), orig))
                orig = ""
            elif rtype == "M":
                break
        return out

    def rcpt_type(self, qid, offset):
        return next(t for o, t, _ in self.records(qid) if o == offset)

    def deliver(self, service, qid, nexthop, rcpts=None, queue="incoming", flags=0,
                remove_first=False):
        """Send one delivery request; return the answer dict or None (no answer)."""
        records = self.records(qid)
        data_offset = next(o for o, t, _ in records if t == "M")
        if rcpts is None:
            rcpts = [(o, a, orig) for o, _, a, orig in self.recipients(qid)]
        now = int(time.time() * 1e6)
        msg = attr_message([
            ("flags", flags), ("queue_name", queue), ("queue_id", qid),
            ("offset", data_offset), ("size", 20), ("nexthop", nexthop),
            ("encoding", ""), ("smtputf8", 0), ("sender", "sender@example.com"),
            ("envelope_id", ""), ("dsn_ret", 0), ("log_client_name", ""),
            ("log_client_address", ""), ("log_client_port", ""),
            ("log_protocol_name", ""), ("log_helo_name", ""),
            ("rewrite_context", "local"), ("sasl_method", ""), ("sasl_username", ""),
            ("sasl_sender", ""), ("time_incoming", now - 2_000_000),
            ("time_active", now - 1_000_000), ("time_handoff", now),
            ("rcpt_count", len(rcpts))])
        for offset, addr, orig in rcpts:
            msg += attr_message([("original_recipient", orig), ("recipient", addr),
                                 ("dsn_orig_rcpt", ""), ("dsn_notify", 0),
                                 ("offset", offset)])
        if remove_first:
            os.unlink(self.queue_path(qid))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(30)
        try:
            sock.connect(os.path.join(self.inst.queue_dir, "private", service))
            sock.sendall(msg)
            reader = sock.makefile("rb")
            try:
                return postern._read_attrs(reader)
            except AssertionError:
                return None  # closed without an answer
        finally:
            sock.close()

    def journal_entries(self):
        with open(self.journal) as f:
            return [json.loads(line) for line in f if line.strip()]


@pytest.fixture
def agents(make_instance):
    inst = make_instance()
    a = Agents(inst)
    inst.write_master_cf(
        "cleanup unix n - n - 0 cleanup\n"
        "error unix - - n - - error\n"
        "retry unix - - n - - error\n"
        "discard unix - - n - - discard\n"
        f"test unix - - n - - {postern.TESTAGENT} {a.rules} {a.journal}\n")
    inst.start()
    return a


def line_re(qid, rcpt, relay, dsn, status, text, orig=None):
    """The delivery log line (delivery.md section 1) as a regex."""
    o = f", orig_to=<{re.escape(orig)}>" if orig else ""
    return (rf"postfix/\w+\[\d+\]: {qid}: to=<{re.escape(rcpt)}>{o}, relay={re.escape(relay)}, "
            rf"{DELAYS}, dsn={re.escape(dsn)}, status={status} \({re.escape(text)}\)$")


def test_discard_marks_done_and_logs_sent(agents):
    qid = agents.submit(["a@example.com", "b@example.com"])
    mark = agents.inst.log_mark()
    answer = agents.deliver("discard", qid, "example.com")
    assert answer == {"status": "0", "hop_status": "", "hop_reason": ""}
    for _, _, addr, _ in agents.recipients(qid):
        agents.inst.wait_log(line_re(qid, addr, "none", "2.0.0", "sent", "example.com"), since=mark)
    assert [t for _, t, _, _ in agents.recipients(qid)] == ["D", "D"]


def test_discard_status_prefix_and_empty_nexthop(agents):
    qid = agents.submit(["a@example.com"])
    mark = agents.inst.log_mark()
    assert agents.deliver("discard", qid, "2.7.1 dropped by policy")["status"] == "0"
    agents.inst.wait_log(line_re(qid, "a@example.com", "none", "2.7.1", "sent", "dropped by policy"), since=mark)
    qid = agents.submit(["b@example.com"])
    assert agents.deliver("discard", qid, "")["status"] == "0"
    agents.inst.wait_log(line_re(qid, "b@example.com", "none", "2.0.0", "sent", "discarded"), since=mark)


def test_error_without_bounce_service_defers(agents):
    """A bounce that cannot be recorded stays queued (bounce.h)."""
    qid = agents.submit(["a@example.com"])
    mark = agents.inst.log_mark()
    answer = agents.deliver("error", qid, "5.1.1 User unknown in virtual alias table")
    assert answer["status"] == "1"
    agents.inst.wait_log(line_re(qid, "a@example.com", "none", "4.3.0", "deferred",
                                 "bounce or trace service failure"), since=mark)
    assert "status=bounced" not in agents.inst.log()[mark:]
    assert [t for _, t, _, _ in agents.recipients(qid)] == ["R"]


def test_retry_defers_with_class_4(agents):
    qid = agents.submit(["a@example.com", "b@example.org"])
    mark = agents.inst.log_mark()
    rcpts = agents.recipients(qid)
    answer = agents.deliver("retry", qid, "5.4.4 host not found",
                            rcpts=[(o, a, "Orig@example.net" if i == 0 else "")
                                   for i, (o, _, a, _) in enumerate(rcpts)])
    assert answer["status"] == "1"
    agents.inst.wait_log(line_re(qid, "a@example.com", "none", "4.4.4", "deferred", "host not found",
                                 orig="Orig@example.net"), since=mark)
    agents.inst.wait_log(line_re(qid, "b@example.org", "none", "4.4.4", "deferred", "host not found"),
                         since=mark)
    qid = agents.submit(["c@example.com"])
    agents.deliver("retry", qid, "delivery temporarily suspended: connection refused")
    agents.inst.wait_log(line_re(qid, "c@example.com", "none", "4.0.0", "deferred",
                                 "delivery temporarily suspended: connection refused"), since=mark)
    assert [t for _, t, _, _ in agents.recipients(qid)] == ["R"]


def test_error_soft_bounce_defers_with_same_text(agents):
    agents.inst.update_main_cf({"soft_bounce": "yes"})
    qid = agents.submit(["a@example.com"])
    mark = agents.inst.log_mark()
    assert agents.deliver("error", qid, "5.1.1 User unknown")["status"] == "1"
    agents.inst.wait_log(line_re(qid, "a@example.com", "none", "4.1.1", "deferred", "User unknown"),
                         since=mark)


def test_missing_queue_file_is_finished(agents):
    """A message deleted meanwhile (postsuper -d) is answered as finished."""
    qid = agents.submit(["a@example.com"])
    mark = agents.inst.log_mark()
    answer = agents.deliver("error", qid, "5.1.1 User unknown", remove_first=True)
    assert answer == {"status": "0", "hop_status": "", "hop_reason": ""}
    agents.inst.wait_log(rf"warning: {qid}: queue file incoming/{qid}: no such file", since=mark)
    assert "to=<a@example.com>" not in agents.inst.log()[mark:]


def test_bad_request_gets_no_answer(agents):
    qid = agents.submit(["a@example.com"])
    mark = agents.inst.log_mark()
    assert agents.deliver("error", qid, "x", queue="../incoming") is None
    agents.inst.wait_log(r"warning: .*bad queue name \"\.\./incoming\"", since=mark)
    assert [t for _, t, _, _ in agents.recipients(qid)] == ["R"]


def test_testagent_rules_journal_and_save(agents):
    agents.inst.write_file(agents.rules,
                           f"save {agents.save_dir}\n"
                           "# comment\n"
                           "^later@ defer 4.2.2 mailbox busy\n"
                           "^gone@ bounce\n"
                           "^ok@ sent 2.1.5 accepted\n")
    qid = agents.submit(["ok@example.com", "later@example.com", "gone@example.com", "x@example.com"],
                        body="line one\nline two\n")
    mark = agents.inst.log_mark()
    answer = agents.deliver("test", qid, "example.com")
    assert answer == {"status": "1", "hop_status": "", "hop_reason": ""}
    relay = "testagent[example.com]"
    agents.inst.wait_log(line_re(qid, "ok@example.com", relay, "2.1.5", "sent", "accepted"), since=mark)
    agents.inst.wait_log(line_re(qid, "x@example.com", relay, "2.0.0", "sent", "delivered"), since=mark)
    agents.inst.wait_log(line_re(qid, "later@example.com", relay, "4.2.2", "deferred", "mailbox busy"),
                         since=mark)
    agents.inst.wait_log(line_re(qid, "gone@example.com", relay, "4.3.0", "deferred",
                                 "bounce or trace service failure"), since=mark)
    types = {a: t for _, t, a, _ in agents.recipients(qid)}
    assert types == {"ok@example.com": "D", "later@example.com": "R", "gone@example.com": "R",
                     "x@example.com": "D"}
    (entry,) = agents.journal_entries()
    assert entry["queue_id"] == qid and entry["nexthop"] == "example.com"
    assert entry["sender"] == "sender@example.com" and entry["start"] <= entry["end"]
    assert [(r["address"], r["result"]) for r in entry["recipients"]] == [
        ("ok@example.com", "sent"), ("later@example.com", "defer"), ("gone@example.com", "bounce"),
        ("x@example.com", "sent")]
    saved = sorted(os.listdir(agents.save_dir))
    assert saved == [f"{qid}.ok@example.com.eml", f"{qid}.x@example.com.eml"]
    with open(os.path.join(agents.save_dir, saved[0])) as f:
        content = f.read()
    assert content.endswith("\nline one\nline two\n") and "Subject: agent test\n" in content


def test_testagent_hopfail_and_crash(agents):
    agents.inst.write_file(agents.rules, "^dead@ hopfail 4.4.1 connect to dead.example: Connection refused\n")
    qid = agents.submit(["alive@dead.example", "dead@dead.example"])
    mark = agents.inst.log_mark()
    answer = agents.deliver("test", qid, "dead.example")
    assert answer == {"status": "1", "hop_status": "4.4.1",
                      "hop_reason": "connect to dead.example: Connection refused"}
    for addr in ("alive@dead.example", "dead@dead.example"):
        agents.inst.wait_log(line_re(qid, addr, "testagent[dead.example]", "4.4.1", "deferred",
                                     "connect to dead.example: Connection refused"), since=mark)

    agents.inst.write_file(agents.rules, "^boom@ crash\n")
    qid2 = agents.submit(["fine@example.com", "boom@example.com"])
    assert agents.deliver("test", qid2, "example.com") is None
    assert [t for _, t, _, _ in agents.recipients(qid2)] == ["R", "R"]
    entries = agents.journal_entries()
    assert [e["queue_id"] for e in entries] == [qid, qid2]
    assert [r["result"] for r in entries[1]["recipients"]] == ["crash", "crash"]


def test_error_bounces_through_bounce_service(agents):
    """With a (stand-in) bounce service that accepts the append, the
    recipient is bounced and marked done; the request carries the
    bounce.h attributes."""
    import threading

    path = os.path.join(agents.inst.queue_dir, "private", "bounce")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o666)
    server.listen(1)
    server.settimeout(30)
    got = {}

    def serve():
        conn, _ = server.accept()
        with conn:
            got.update(postern._read_attrs(conn.makefile("rb")))
            conn.sendall(attr_message([("status", 0)]))

    t = threading.Thread(target=serve)
    t.start()
    try:
        qid = agents.submit(["a@example.com"])
        mark = agents.inst.log_mark()
        answer = agents.deliver("error", qid, "5.1.1 User unknown")
    finally:
        t.join(30)
        server.close()
        os.unlink(path)
    assert answer["status"] == "0"
    agents.inst.wait_log(line_re(qid, "a@example.com", "none", "5.1.1", "bounced", "User unknown"), since=mark)
    assert [t for _, t, _, _ in agents.recipients(qid)] == ["D"]
    offset = agents.recipients(qid)[0][0]
    assert {k: v for k, v in got.items() if k != "log_time"} == {
        "request": "append", "flags": "0", "queue_id": qid, "original_recipient": "a@example.com",
        "recipient": "a@example.com", "dsn_orig_rcpt": "", "dsn_notify": "0", "offset": str(offset),
        "dsn_status": "5.1.1", "action": "failed", "reason": "User unknown", "diag_type": "",
        "diag_text": "", "mta_type": "", "mta_name": ""}
    assert got["log_time"].isdigit()
