"""End-to-end tests of the queue manager (queue.md section 5, delivery.md 1):
scans, delivery requests, recipient grouping, retries with back-off, delay
warnings, expiry, dead destinations, crashing agents, defer_transports,
soft_bounce, the error/retry/discard agents and the log lines.

Remote mail goes to a scriptable test delivery agent (src/testagent,
master.cf service "test"): a rules file decides per recipient (sent,
defer, bounce, hopfail, crash, sleep N) and a journal records every
request it served (recipients, timing), so the tests see what the queue
manager asked for, not only what it logged.
"""
import email
import email.policy
import json
import os
import re
import time

import pytest

import postern

QID = r"[0-9A-F]{6,}"


class Sink:
    """The test agent's rules file and journal."""

    def __init__(self, inst):
        """Adds the agent to INST's master.cf as service "test"."""
        self.rules, self.journal = inst.add_test_agent()
        self.save_dir = os.path.join(inst.root, "agent-saved")
        os.makedirs(self.save_dir)
        inst._own(self.save_dir)  # the agent runs as the instance's user
        self.set_rules("")

    def set_rules(self, text):
        with open(self.rules, "w") as f:
            f.write(f"save {self.save_dir}\n" + text)
        os.chmod(self.rules, 0o644)

    def requests(self):
        try:
            with open(self.journal) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def saved(self):
        """Saved messages: {(queue_id, recipient): bytes}."""
        out = {}
        for name in sorted(os.listdir(self.save_dir)):
            qid, rcpt = name[:-len(".eml")].split(".", 1)
            with open(os.path.join(self.save_dir, name), "rb") as f:
                out[(qid, rcpt)] = f.read()
        return out


@pytest.fixture
def inst():
    instance = postern.Instance()
    instance.sink = Sink(instance)
    # Remote mail to the test agent; fast retries so tests finish quickly.
    instance.settings.update({
        "default_transport": "test",
        "relay_transport": "test",
        "minimal_backoff_time": "1s",
        "maximal_backoff_time": "2s",
        "queue_run_delay": "1s",
        "transport_retry_time": "1s",
    })
    instance.write_main_cf("")
    yield instance
    instance.close()


def submit(inst, sender, recipients, subject="test", extra_headers="", body="hello\n"):
    """Queue one message through cleanup; return its queue ID."""
    content = (f"From: <{sender}>\nTo: undisclosed\nSubject: {subject}\n"
               f"Message-ID: <{subject.replace(' ', '.')}.{time.time()}@client.example>\n"
               f"{extra_headers}\n{body}")
    res = inst.cleanup_submit(sender, recipients, content)
    assert res["status"] == 0, res
    return res["queue_id"]


def submit_offline(inst, messages):
    """Queue MESSAGES ((sender, recipients) pairs) with the queue manager
    not running, so they wait in incoming/; return their IDs. The instance
    is stopped afterwards, its master.cf restored."""
    master_cf = inst.read_master_cf()
    inst.write_master_cf(re.sub(r"^qmgr .*\n", "", master_cf, flags=re.M))
    inst.start()
    try:
        ids = [submit(inst, sender, rcpts) for sender, rcpts in messages]
    finally:
        inst.stop()
        inst.write_master_cf(master_cf)
    return ids


def delivery_line(inst, qid, rcpt, status, timeout=15, since=0):
    """Wait for the delivery log line of RCPT; return the match."""
    return inst.wait_log(rf"^.*\S+\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, (?:orig_to=<[^>]*>, )?"
                         rf"relay=(?P<relay>\S+), (?:conn_use=\d+, )?delay=(?P<delay>[0-9.]+), "
                         rf"delays=(?P<delays>[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+), "
                         rf"dsn=(?P<dsn>\d\.\d+\.\d+), status={status} \((?P<text>.*)\)$",
                         timeout=timeout, since=since)


def test_delivery_log_sequence_and_removal(inst):
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    m = delivery_line(inst, qid, "bob@remote.test", "sent")
    assert m["relay"] == "testagent[remote.test]"
    assert m["dsn"] == "2.0.0"
    assert m["text"] == "delivered"
    inst.wait_log(rf"qmgr\[\d+\]: {qid}: removed$")
    log = inst.log()
    active = re.search(rf"qmgr\[\d+\]: {qid}: from=<alice@example.org>, size=\d+, nrcpt=1 \(queue active\)",
                       log)
    assert active, log
    assert active.start() < m.start() < log.index(f"{qid}: removed")
    inst.wait_queue_empty()
    reqs = inst.sink.requests()
    assert len(reqs) == 1
    assert reqs[0]["queue_id"] == qid and reqs[0]["nexthop"] == "remote.test"
    assert [r["address"] for r in reqs[0]["recipients"]] == ["bob@remote.test"]
    # The agent received the message content from the queue file.
    saved = inst.sink.saved()[(qid, "bob@remote.test")]
    assert b"Subject: test\n" in saved and saved.endswith(b"hello\n")


def test_recipients_grouped_by_destination_and_limit(inst):
    """Acceptance 38: 120 recipients at one domain -> requests of 50, 50, 20;
    other destinations get their own requests."""
    inst.start()
    rcpts = [f"u{i}@example.net" for i in range(120)] + ["x@other.test"]
    qid = submit(inst, "alice@example.org", rcpts)
    inst.wait_log(rf"qmgr\[\d+\]: {qid}: removed$", timeout=30)
    reqs = inst.sink.requests()
    sizes = sorted((r["nexthop"], len(r["recipients"])) for r in reqs)
    assert sizes == [("example.net", 20), ("example.net", 50), ("example.net", 50), ("other.test", 1)]
    delivered = sorted(r["address"] for req in reqs for r in req["recipients"])
    assert delivered == sorted(rcpts)


def test_recipient_limit_parameter_per_transport(inst):
    inst.update_main_cf({"test_destination_recipient_limit": "2"})
    inst.start()
    qid = submit(inst, "alice@example.org", [f"u{i}@example.net" for i in range(5)])
    inst.wait_log(rf"qmgr\[\d+\]: {qid}: removed$")
    assert sorted(len(r["recipients"]) for r in inst.sink.requests()) == [1, 2, 2]


def test_deferred_then_retried_on_backoff(inst):
    inst.update_main_cf({"minimal_backoff_time": "300s", "maximal_backoff_time": "4000s"})
    inst.sink.set_rules(r"^bob@ defer 4.4.1 connect to remote.test: Connection refused" "\n")
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    m = delivery_line(inst, qid, "bob@remote.test", "deferred")
    assert m["dsn"] == "4.4.1"
    assert m["text"] == "connect to remote.test: Connection refused"
    ids = inst.wait_queued(1, queue="deferred")
    assert ids == [qid]
    path = os.path.join(inst.queue_dir, "deferred", qid[0], qid)
    assert os.path.exists(path), "deferred/ is hashed one level"
    # Acceptance 18: mtime about now + minimal_backoff_time.
    assert abs(os.stat(path).st_mtime - (time.time() + 300)) < 30
    assert os.path.exists(os.path.join(inst.queue_dir, "defer", qid[0], qid))
    assert f"{qid}: removed" not in inst.log()


def test_retry_delivers_and_removes_defer_log(inst):
    inst.sink.set_rules(r"^bob@ defer" "\n")
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test", "carol@remote.test"])
    delivery_line(inst, qid, "bob@remote.test", "deferred")
    delivery_line(inst, qid, "carol@remote.test", "sent")
    mark = inst.log_mark()
    inst.sink.set_rules("")
    # queue_run_delay and the back-off are 1-2 s here.
    delivery_line(inst, qid, "bob@remote.test", "sent", since=mark)
    inst.wait_log(rf"{qid}: removed$", since=mark)
    inst.wait_queue_empty()
    assert not os.path.exists(os.path.join(inst.queue_dir, "defer", qid[0], qid))
    # carol was delivered once only: her recipient was marked done.
    carol = [r for req in inst.sink.requests() for r in req["recipients"] if r["address"] == "carol@remote.test"]
    assert len(carol) == 1


def test_error_retry_and_discard_agents(inst):
    inst.write_file("transport", "gone.test error:5.1.2 domain is gone\n"
                                 "later.test retry:4.4.2 try later\n"
                                 "void.test discard:silently\n"
                                 "plain.test error:go away\n")
    inst.update_main_cf({"transport_maps": f"texthash:{inst.path}/transport"})
    inst.start()
    qid = submit(inst, "alice@example.org", ["a@gone.test", "b@later.test", "c@void.test", "d@plain.test"])
    m = delivery_line(inst, qid, "a@gone.test", "bounced")
    assert (m["relay"], m["dsn"], m["text"]) == ("none", "5.1.2", "domain is gone")
    m = delivery_line(inst, qid, "b@later.test", "deferred")
    assert (m["relay"], m["dsn"], m["text"]) == ("none", "4.4.2", "try later")
    m = delivery_line(inst, qid, "c@void.test", "sent")
    assert (m["relay"], m["text"]) == ("none", "silently")
    m = delivery_line(inst, qid, "d@plain.test", "bounced")
    assert (m["dsn"], m["text"]) == ("5.0.0", "go away")
    inst.wait_log(rf"{qid}: sender non-delivery notification: {QID}$")
    assert inst.wait_queued(1, queue="deferred") == [qid]


def test_bounce_notice_is_rfc3464(inst):
    """Acceptance 31 with the test agent as the failing remote server."""
    inst.sink.set_rules(r"^bob@ bounce 5.1.1 host remote.test said: 550 5.1.1 no such user" "\n")
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"], subject="bounce me")
    delivery_line(inst, qid, "bob@remote.test", "bounced")
    notice_id = inst.wait_log(rf"{qid}: sender non-delivery notification: ({QID})$").group(1)
    inst.wait_log(rf"{qid}: removed$")
    inst.wait_log(rf"{notice_id}: removed$")
    raw = inst.sink.saved()[(notice_id, "alice@example.org")]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["From"].startswith("Mail Delivery System <MAILER-DAEMON@")
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == ["text/plain", "message/delivery-status", "message/rfc822"]
    status = parts[1].get_payload()
    fields = {}
    for block in status:
        for k, v in block.items():
            fields[k] = v
    assert fields["Action"] == "failed"
    assert fields["Status"] == "5.1.1"
    assert fields["Final-Recipient"] == "rfc822; bob@remote.test"
    original = parts[2].get_payload()[0]
    assert original["Subject"] == "bounce me"
    assert original["Message-ID"].startswith("<bounce.me.")
    req = [r for r in inst.sink.requests() if r["queue_id"] == notice_id][0]
    assert req["sender"] == ""


def test_expired_after_lifetime(inst):
    """Acceptance 29: maximal_queue_lifetime = 0 -> returned after one attempt."""
    inst.update_main_cf({"maximal_queue_lifetime": "0"})
    inst.sink.set_rules(r"^bob@ defer 4.2.0 host remote.test said: 450 4.2.0 mailbox busy" "\n")
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    delivery_line(inst, qid, "bob@remote.test", "deferred")
    inst.wait_log(rf"qmgr\[\d+\]: {qid}: from=<alice@example.org>, status=expired, returned to sender$")
    notice_id = inst.wait_log(rf"{qid}: sender non-delivery notification: ({QID})$").group(1)
    inst.wait_log(rf"{qid}: removed$")
    inst.wait_log(rf"{notice_id}: removed$")
    raw = inst.sink.saved()[(notice_id, "alice@example.org")]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text = raw.decode()
    assert "Action: failed" in text
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"


def test_delay_warning_sent_once(inst):
    """Acceptance 30: one delay notice, the message keeps being retried."""
    inst.update_main_cf({"delay_warning_time": "1s"})
    inst.sink.set_rules(r"^bob@ defer 4.2.0 mailbox busy" "\n")
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    notice_id = inst.wait_log(rf"{qid}: sender delay notification: ({QID})$", timeout=20).group(1)
    inst.wait_log(rf"{notice_id}: removed$")
    # Two more attempts: still no second warning.
    mark = inst.log_mark()
    delivery_line(inst, qid, "bob@remote.test", "deferred", since=mark)
    mark = inst.log_mark()
    delivery_line(inst, qid, "bob@remote.test", "deferred", since=mark)
    assert len(re.findall(rf"{qid}: sender delay notification", inst.log())) == 1
    raw = inst.sink.saved()[(notice_id, "alice@example.org")]
    assert b"Subject: Delayed Mail (still being retried)" in raw
    assert b"Action: delayed" in raw


def test_defer_transports_and_flush(inst):
    """Acceptance 36."""
    inst.update_main_cf({"defer_transports": "test", "minimal_backoff_time": "300s",
                         "maximal_backoff_time": "300s", "queue_run_delay": "300s"})
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    m = delivery_line(inst, qid, "bob@remote.test", "deferred")
    assert (m["relay"], m["dsn"], m["text"]) == ("none", "4.3.2", "deferred transport")
    inst.wait_queued(1, queue="deferred")
    assert inst.sink.requests() == []
    mark = inst.log_mark()
    inst.run("sendmail", "-q", check=True)
    delivery_line(inst, qid, "bob@remote.test", "sent", since=mark)
    inst.wait_queue_empty()


def test_dead_destination_suspends_deliveries(inst):
    """Acceptance 37: after the first window of failures the rest is
    deferred without new requests."""
    inst.update_main_cf({"minimal_backoff_time": "300s", "maximal_backoff_time": "300s",
                         "queue_run_delay": "300s"})
    inst.sink.set_rules(".* hopfail 4.4.1 connect to remote.test[192.0.2.1]:25: Connection refused\n")
    ids = submit_offline(inst, [("alice@example.org", [f"u{i}@remote.test"]) for i in range(10)])
    inst.start()
    for i, qid in enumerate(ids):
        delivery_line(inst, qid, f"u{i}@remote.test", "deferred", timeout=20)
    log = inst.log()
    suspended = re.findall(r"status=deferred \(delivery temporarily suspended: connect to "
                           r"remote.test\[192.0.2.1\]:25: Connection refused\)", log)
    assert len(suspended) >= 4, log
    assert len(inst.sink.requests()) <= 6
    assert len(inst.sink.requests()) + len(suspended) == 10


def test_crashing_agent_defers_and_nothing_is_lost(inst):
    inst.sink.set_rules(r"^bob@ crash" "\n")
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    m = delivery_line(inst, qid, "bob@remote.test", "deferred")
    assert (m["dsn"], m["text"]) == ("4.3.0", "unknown mail transport error")
    inst.wait_log(r"warning: transport test failure")
    mark = inst.log_mark()
    inst.sink.set_rules("")
    delivery_line(inst, qid, "bob@remote.test", "sent", timeout=20, since=mark)
    inst.wait_queue_empty()


def test_unreachable_transport_defers(inst):
    inst.update_main_cf({"default_transport": "nosuch"})
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    m = delivery_line(inst, qid, "bob@remote.test", "deferred")
    assert (m["relay"], m["dsn"], m["text"]) == ("none", "4.3.0", "mail transport unavailable")
    assert inst.wait_queued(1, queue="deferred") == [qid]


def test_soft_bounce(inst):
    """Acceptance 35 (queue side): a would-be bounce is deferred."""
    inst.update_main_cf({"soft_bounce": "yes"})
    inst.sink.set_rules(r"^bob@ bounce 5.1.1 no such user" "\n")
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    m = delivery_line(inst, qid, "bob@remote.test", "deferred")
    assert (m["dsn"], m["text"]) == ("4.1.1", "no such user")
    assert inst.wait_queued(1, queue="deferred") == [qid]
    assert "non-delivery notification" not in inst.log()


def test_double_bounce_address_is_discarded(inst):
    inst.start()
    qid = submit(inst, "", [f"double-bounce@{inst.hostname}"])
    m = delivery_line(inst, qid, f"double-bounce@{inst.hostname}", "sent")
    assert (m["relay"], m["text"]) == ("none", "undeliverable postmaster notification discarded")
    inst.wait_log(rf"{qid}: removed$")


def test_concurrency_limit_per_destination(inst):
    inst.update_main_cf({"test_destination_concurrency_limit": "2"})
    inst.sink.set_rules(".* sleep 1\n")
    ids = submit_offline(inst, [("alice@example.org", [f"u{i}@remote.test"]) for i in range(6)])
    inst.start()
    for qid in ids:
        inst.wait_log(rf"{qid}: removed$", timeout=30)
    reqs = inst.sink.requests()
    events = sorted([(r["start"], 1) for r in reqs] + [(r["end"], -1) for r in reqs])
    busy = peak = 0
    for _, delta in events:
        busy += delta
        peak = max(peak, busy)
    assert peak == 2


def test_active_files_recovered_at_start(inst):
    """A file left in active/ by a stopped queue manager is delivered once."""
    [qid] = submit_offline(inst, [("alice@example.org", ["bob@remote.test"])])
    src = os.path.join(inst.queue_dir, "incoming", qid)
    os.makedirs(os.path.join(inst.queue_dir, "active"), exist_ok=True)
    os.rename(src, os.path.join(inst.queue_dir, "active", qid))
    inst.start()
    delivery_line(inst, qid, "bob@remote.test", "sent")
    inst.wait_queue_empty()
    assert len(inst.sink.requests()) == 1


def test_hold_queue_is_not_scanned(inst):
    [qid] = submit_offline(inst, [("alice@example.org", ["bob@remote.test"])])
    os.makedirs(os.path.join(inst.queue_dir, "hold"), exist_ok=True)
    os.rename(os.path.join(inst.queue_dir, "incoming", qid), os.path.join(inst.queue_dir, "hold", qid))
    inst.start()
    qid2 = submit(inst, "alice@example.org", ["carol@remote.test"])
    inst.wait_log(rf"{qid2}: removed$")
    assert inst.queue_ids("hold") == [qid]
    assert not re.search(rf"qmgr\[\d+\]: {qid}:", inst.log())


def test_pflogsumm_counts(inst):
    """Acceptance: pflogsumm reads the log and counts what happened."""
    inst.sink.set_rules("^defer@ defer\n^bounce@ bounce 5.1.1 no such user\n")
    inst.update_main_cf({"minimal_backoff_time": "300s", "maximal_backoff_time": "300s",
                         "queue_run_delay": "300s"})
    inst.start()
    def sendmail(sender, rcpt):
        mark = inst.log_mark()
        inst.run("sendmail", "-f", sender, rcpt, input=b"Subject: s\n\nbody\n", check=True)
        return inst.wait_log(rf"pickup\[\d+\]: ({QID}): uid=\d+ from=<{sender}>$", since=mark).group(1)

    ok = [sendmail("alice@example.org", f"ok{i}@remote.test") for i in range(3)]
    d = sendmail("alice@example.org", "defer@remote.test")
    b = sendmail("carol@example.org", "bounce@remote.test")
    for qid in ok:
        inst.wait_log(rf"{qid}: removed$")
    delivery_line(inst, d, "defer@remote.test", "deferred")
    notice = inst.wait_log(rf"{b}: sender non-delivery notification: ({QID})$").group(1)
    inst.wait_log(rf"{notice}: removed$")
    inst.stop()
    out = postern.run_command(["/usr/sbin/pflogsumm", "--smtpd-stats", inst.log_file], timeout=60)
    assert out.returncode == 0, out.stderr
    counts = dict((m.group(2), int(m.group(1)))
                  for m in re.finditer(r"^\s*(\d+)\s+(received|delivered|deferred|bounced)\b", out.stdout, re.M))
    # received: the 5 submissions (pflogsumm counts pickup and smtpd);
    # delivered: 3 + the bounce notice; 1 deferred; 1 bounced
    assert counts == {"received": 5, "delivered": 4, "deferred": 1, "bounced": 1}, out.stdout


# --- the queue tools against a running queue manager -----------------------


def defer_one(inst, rcpt="bob@remote.test", reason="4.4.1 connect to remote.test[192.0.2.1]:25: Connection refused"):
    """Start with slow retries, queue one message whose recipient is deferred."""
    inst.update_main_cf({"minimal_backoff_time": "300s", "maximal_backoff_time": "300s",
                         "queue_run_delay": "300s"})
    inst.sink.set_rules(f"^{re.escape(rcpt)}$ defer {reason}\n")
    if not inst.started:
        inst.start()
    qid = submit(inst, "alice@example.org", [rcpt])
    delivery_line(inst, qid, rcpt, "deferred")
    inst.wait_queued(1, queue="deferred")
    return qid


def test_mailq_shows_the_deferral_reason(inst):
    """Acceptance 18 with a real deferral."""
    qid = defer_one(inst)
    out = inst.run("mailq", check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"
    assert re.match(rf"^{qid}\s+\d+ \w{{3}} \w{{3}} [ \d]\d \d\d:\d\d:\d\d  alice@example.org$", lines[1])
    reason = "(connect to remote.test[192.0.2.1]:25: Connection refused)"
    assert lines[2] == " " * (78 - len(reason)) + reason
    assert lines[3] == " " * 41 + "bob@remote.test"
    assert lines[-1] == "-- 0 Kbytes in 1 Request."


def test_postsuper_expire_then_flush_returns_mail(inst):
    """Acceptance 25."""
    qid = defer_one(inst)
    res = inst.run("postsuper", "-e", qid, check=True)
    assert f"postsuper: {qid}: expired" in res.stderr
    mark = inst.log_mark()
    inst.run("postqueue", "-f", check=True)
    inst.wait_log(rf"qmgr\[\d+\]: {qid}: from=<alice@example.org>, status=force-expired, returned to sender$",
                  since=mark)
    inst.wait_log(rf"{qid}: sender non-delivery notification: {QID}$", since=mark)
    inst.wait_log(rf"{qid}: removed$", since=mark)
    # No delivery attempt after the expiry was requested.
    assert not re.search(rf"{qid}: to=<bob@remote.test>", inst.log()[mark:])


def test_postsuper_requeue_all_gets_new_ids(inst):
    qid = defer_one(inst)
    mark = inst.log_mark()
    inst.sink.set_rules("")
    res = inst.run("postsuper", "-r", "ALL", check=True)
    assert res.stderr.strip() == "postsuper: Requeued: 1 message"
    new = inst.wait_log(rf"pickup\[\d+\]: ({QID}): uid=\d+ from=<alice@example.org> orig_id={qid}$",
                        since=mark).group(1)
    assert new != qid
    delivery_line(inst, new, "bob@remote.test", "sent", since=mark)
    inst.wait_queue_empty()


def test_postsuper_delete_all_empties_the_queue(inst):
    qid = defer_one(inst)
    res = inst.run("postsuper", "-d", "ALL", check=True)
    assert res.stderr.strip() == "postsuper: Deleted: 1 message"
    inst.wait_queue_empty()
    assert not os.path.exists(os.path.join(inst.queue_dir, "defer", qid[0], qid))


def test_fast_flush_delivers_one_site(inst):
    """Acceptance 43 (postqueue side): the deferred mail for a fast-flush
    domain is delivered at once, defer_transports included."""
    inst.update_main_cf({"fast_flush_domains": "slow.test"})
    qid = defer_one(inst, rcpt="bob@slow.test")
    mark = inst.log_mark()
    inst.sink.set_rules("")
    inst.run("postqueue", "-s", "slow.test", check=True)
    delivery_line(inst, qid, "bob@slow.test", "sent", since=mark)
    inst.wait_queue_empty()
    res = inst.run("postqueue", "-s", "other.test")
    assert res.returncode == 69
    assert 'Flush service is not configured for destination "other.test"' in res.stderr


def test_postqueue_i_delivers_one_message(inst):
    qid = defer_one(inst)
    mark = inst.log_mark()
    inst.sink.set_rules("")
    inst.run("postqueue", "-i", qid, check=True)
    delivery_line(inst, qid, "bob@remote.test", "sent", since=mark)
    inst.wait_queue_empty()


def test_sendmail_bv_reports_without_delivering(inst):
    """sendmail -bv: a report, and no delivery."""
    inst.write_file("transport", "gone.test error:5.1.2 domain is gone\n")
    inst.update_main_cf({"transport_maps": f"texthash:{inst.path}/transport"})
    inst.start()
    mark = inst.log_mark()
    inst.run("sendmail", "-f", "alice@example.org", "-bv", "bob@remote.test", "x@gone.test", check=True)
    qid = inst.wait_log(rf"({QID}): to=<bob@remote.test>, .*status=deliverable \(delivered\)$", since=mark).group(1)
    inst.wait_log(rf"{qid}: to=<x@gone.test>, .*status=undeliverable \(domain is gone\)$", since=mark)
    notice = inst.wait_log(rf"{qid}: sender delivery status notification: ({QID})$", since=mark).group(1)
    inst.wait_log(rf"{notice}: removed$", since=mark)
    assert inst.sink.saved().get((qid, "bob@remote.test")) is None
    raw = inst.sink.saved()[(notice, "alice@example.org")].decode()
    assert "Subject: Mail Delivery Status Report" in raw
    assert re.search(r"<bob@remote\.test>: delivery via testagent\[remote\.test\]: delivered", raw), raw


# --- routing through the queue manager (queue.md 6, acceptance 9, 10, 40, 41) ----


def test_relayhost_gets_remote_mail_only(inst):
    """Acceptance 40: remote mail goes to the relay host, local mail does not."""
    inst.update_main_cf({"relayhost": "[10.0.0.9]:2525"})
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test", f"carol@{inst.hostname}"])
    delivery_line(inst, qid, "bob@remote.test", "sent")
    m = delivery_line(inst, qid, f"carol@{inst.hostname}", "bounced")
    assert m["relay"] == "local"  # local(8): no such user, but not relayed
    requests = [r for r in inst.sink.requests() if r["queue_id"] == qid]
    assert [(r["nexthop"], [x["address"] for x in r["recipients"]]) for r in requests] == [
        ("[10.0.0.9]:2525", ["bob@remote.test"])]


def test_relocated_user_bounces_with_new_address(inst):
    """Acceptance 41."""
    inst.write_file("relocated", "old@example.com new@example.org\n")
    inst.update_main_cf({"relocated_maps": f"texthash:{inst.path}/relocated"})
    inst.start()
    qid = submit(inst, "alice@example.org", ["old@example.com"])
    m = delivery_line(inst, qid, "old@example.com", "bounced")
    assert (m["relay"], m["dsn"], m["text"]) == ("none", "5.1.6", "User has moved to new@example.org")
    notice = inst.wait_log(rf"{qid}: sender non-delivery notification: ({QID})$").group(1)
    inst.wait_log(rf"{notice}: removed$")
    assert b"Status: 5.1.6" in inst.sink.saved()[(notice, "alice@example.org")]


def test_virtual_alias_domain_unknown_user(inst):
    """Acceptance 9: aliased recipients are delivered with orig_to, an
    unknown one in the domain bounces."""
    inst.write_file("virtual", "info@v.test a@x.test, b@x.test\n")
    inst.update_main_cf({"virtual_alias_maps": f"texthash:{inst.path}/virtual", "virtual_alias_domains": "v.test"})
    inst.start()
    qid = submit(inst, "alice@example.org", ["info@v.test", "nobody@v.test"])
    for rcpt in ("a@x.test", "b@x.test"):
        line = delivery_line(inst, qid, rcpt, "sent").group(0)
        assert f"to=<{rcpt}>, orig_to=<info@v.test>, relay=testagent[x.test]" in line
    m = delivery_line(inst, qid, "nobody@v.test", "bounced")
    assert (m["dsn"], m["text"]) == ("5.1.1", "User unknown in virtual alias table")


def test_notices_get_no_automatic_bcc(inst):
    """Acceptance 10: always_bcc adds a recipient to submitted mail only."""
    inst.update_main_cf({"always_bcc": "arch@example.com"})
    inst.sink.set_rules(r"^bob@ bounce 5.1.1 no such user" "\n")
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    inst.wait_log(rf"{qid}: from=<alice@example.org>, size=\d+, nrcpt=2 \(queue active\)")
    notice = inst.wait_log(rf"{qid}: sender non-delivery notification: ({QID})$").group(1)
    inst.wait_log(rf"{notice}: from=<>, size=\d+, nrcpt=1 \(queue active\)")


def test_dsn_success_notice_with_envid(inst):
    """DSN from submission to notice: NOTIFY=SUCCESS and ENVID (sendmail -N -V)."""
    inst.start()
    mark = inst.log_mark()
    inst.run("sendmail", "-f", "alice@example.org", "-N", "success", "-V", "env-42", "bob@remote.test",
             input="Subject: dsn\n\nbody\n", check=True)
    qid = inst.wait_log(rf"({QID}): to=<bob@remote.test>, .*status=sent \(delivered\)$", since=mark).group(1)
    notice = inst.wait_log(rf"{qid}: sender delivery status notification: ({QID})$", since=mark).group(1)
    inst.wait_log(rf"{notice}: removed$", since=mark)
    raw = inst.sink.saved()[(notice, "alice@example.org")].decode()
    msg = email.message_from_string(raw, policy=email.policy.default)
    assert msg["Subject"] == "Successful Mail Delivery Report"
    assert "Original-Envelope-Id: env-42" in raw
    assert "Action: delivered" in raw
    assert re.search(r"<bob@remote\.test>: delivery via testagent\[remote\.test\]: delivered", raw), raw


def test_dsn_notify_never_suppresses_the_bounce(inst):
    inst.sink.set_rules(r"^bob@ bounce 5.1.1 no such user" "\n")
    inst.start()
    mark = inst.log_mark()
    inst.run("sendmail", "-f", "alice@example.org", "-N", "never", "bob@remote.test",
             input="Subject: dsn\n\nbody\n", check=True)
    qid = inst.wait_log(rf"({QID}): to=<bob@remote.test>, .*status=bounced \(no such user\)$", since=mark).group(1)
    inst.wait_log(rf"{qid}: removed$", since=mark)
    assert "non-delivery notification" not in inst.log()[mark:]


# --- local submissions that cleanup refuses (acceptance 16, 12 for sendmail) --


def test_sendmail_too_big_is_returned_to_sender(inst):
    """Acceptance 16 (with room for the notice itself: like Postfix's, a
    notice larger than message_size_limit is refused too): a local
    submission over the limit is bounced, the notice has headers only."""
    inst.update_main_cf({"message_size_limit": "4000"})
    inst.start()
    mark = inst.log_mark()
    body = "x" * 60 + "\n"
    inst.run("sendmail", "-f", "alice@example.org", "bob@remote.test",
             input="Subject: big\n\n" + body * 100, check=True)
    m = inst.wait_log(rf"({QID}): to=<bob@remote.test>, relay=none, delay=[0-9.]+, delays=[0-9./]+, "
                      r"dsn=5\.3\.4, status=bounced \((.*)\)$", since=mark)
    qid = m.group(1)
    notice = inst.wait_log(rf"{qid}: sender non-delivery notification: ({QID})$", since=mark).group(1)
    inst.wait_log(rf"{notice}: removed$", since=mark)
    raw = inst.sink.saved()[(notice, "alice@example.org")]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = msg.get_payload()
    assert parts[2].get_content_type() == "text/rfc822-headers"
    assert b"Subject: big" in raw
    assert "Status: 5.3.4" in raw.decode()
    assert not any(f for f in os.listdir(os.path.join(inst.queue_dir, "maildrop")))
    assert inst.sink.saved().get((qid, "bob@remote.test")) is None


def test_sendmail_header_check_reject_is_returned_to_sender(inst):
    inst.write_file("header_checks", "/^Subject:.*viagra/ REJECT Go away\n")
    inst.update_main_cf({"header_checks": f"regexp:{inst.path}/header_checks"})
    inst.start()
    mark = inst.log_mark()
    inst.run("sendmail", "-f", "alice@example.org", "bob@remote.test", "carol@remote.test",
             input="Subject: cheap viagra\n\nbody\n", check=True)
    qid = inst.wait_log(rf"({QID}): to=<bob@remote.test>, .*dsn=5\.7\.1, status=bounced \(Go away\)$",
                        since=mark).group(1)
    inst.wait_log(rf"{qid}: to=<carol@remote.test>, .*dsn=5\.7\.1, status=bounced \(Go away\)$", since=mark)
    notice = inst.wait_log(rf"{qid}: sender non-delivery notification: ({QID})$", since=mark).group(1)
    inst.wait_log(rf"{notice}: removed$", since=mark)
    raw = inst.sink.saved()[(notice, "alice@example.org")].decode()
    assert "<bob@remote.test>: Go away" in raw and "<carol@remote.test>: Go away" in raw


# --- postmaster copies and double bounces through the whole pipeline ------


def test_postmaster_copy_of_bounces(inst):
    """Acceptance 34: notify_classes = bounce sends a headers-only
    "Postmaster Copy: Undelivered Mail" for each bounce."""
    inst.update_main_cf({"notify_classes": "bounce", "bounce_notice_recipient": "pm@remote.test"})
    inst.sink.set_rules(r"^bob@ bounce 5.1.1 no such user" "\n")
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"], subject="copy me")
    inst.wait_log(rf"{qid}: sender non-delivery notification: {QID}$")
    copy = inst.wait_log(rf"{qid}: postmaster non-delivery notification: ({QID})$").group(1)
    inst.wait_log(rf"{copy}: removed$")
    raw = inst.sink.saved()[(copy, "pm@remote.test")]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Postmaster Copy: Undelivered Mail"
    assert msg.get_payload()[2].get_content_type() == "text/rfc822-headers"
    req = [r for r in inst.sink.requests() if r["queue_id"] == copy][0]
    assert req["sender"] == f"double-bounce@{inst.hostname}"


@pytest.mark.parametrize("classes", ["resource, software", "2bounce"])
def test_undeliverable_notice(inst, classes):
    """Acceptance 33: a notice that bounces is dropped by default; with
    2bounce it goes to the 2bounce_notice_recipient from double-bounce@."""
    inst.update_main_cf({"notify_classes": classes, "2bounce_notice_recipient": "pm@remote.test"})
    inst.sink.set_rules(r"^(bob|alice)@ bounce 5.1.1 no such user" "\n")
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    notice = inst.wait_log(rf"{qid}: sender non-delivery notification: ({QID})$").group(1)
    delivery_line(inst, notice, "alice@example.org", "bounced")
    inst.wait_log(rf"{notice}: removed$")
    if classes == "2bounce":
        copy = inst.wait_log(rf"{notice}: postmaster non-delivery notification: ({QID})$").group(1)
        inst.wait_log(rf"{copy}: removed$")
        req = [r for r in inst.sink.requests() if r["queue_id"] == copy][0]
        assert req["sender"] == f"double-bounce@{inst.hostname}"
        assert [r["address"] for r in req["recipients"]] == ["pm@remote.test"]
    else:
        assert "postmaster non-delivery notification" not in inst.log()
        assert not any(r["recipients"][0]["address"] == "pm@remote.test" for r in inst.sink.requests())


def test_broken_transport_table_keeps_mail_queued(inst):
    """A table that cannot be opened is a temporary failure: deferred, not bounced."""
    inst.update_main_cf({"transport_maps": f"hash:{inst.path}/missing-table"})
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    m = delivery_line(inst, qid, "bob@remote.test", "deferred")
    assert (m["relay"], m["dsn"], m["text"]) == ("none", "4.3.0", "address resolver failure")
    assert inst.wait_queued(1, queue="deferred") == [qid]
    assert "bounced" not in inst.log()


def test_reload_during_delivery_delivers_once(inst):
    """postfix reload restarts the queue manager while an agent still
    delivers: the new one waits for the file (the agent's lock) instead of
    delivering the message a second time."""
    inst.sink.set_rules(".* sleep 2\n")
    inst.start()
    qid = submit(inst, "alice@example.org", ["bob@remote.test"])
    inst.wait_log(rf"{qid}: from=<alice@example.org>, size=\d+, nrcpt=1 \(queue active\)")
    inst.postfix("reload", check=True)
    inst.wait_log(rf"{qid}: removed$", timeout=20)
    assert len(inst.sink.requests()) == 1
    assert len(re.findall(rf"{qid}: to=<bob@remote.test>", inst.log())) == 1


def test_small_in_memory_limits_still_deliver_everything(inst):
    """qmgr_message_recipient_limit and qmgr_message_active_limit: a big
    message is read in batches, messages wait their turn, nothing is lost
    or delivered twice."""
    inst.update_main_cf({"qmgr_message_recipient_limit": "20", "qmgr_message_recipient_minimum": "10",
                         "qmgr_message_active_limit": "2"})
    big = [f"u{i}@example.net" for i in range(120)]
    small = [[f"s{i}@other.test"] for i in range(6)]
    ids = submit_offline(inst, [("alice@example.org", big)] + [("alice@example.org", r) for r in small])
    inst.start()
    for qid in ids:
        inst.wait_log(rf"{qid}: removed$", timeout=30)
    delivered = sorted(r["address"] for req in inst.sink.requests() for r in req["recipients"])
    assert delivered == sorted(big + [r[0] for r in small])
    # Batches of at most 20 recipients in memory: no request can carry more.
    assert max(len(req["recipients"]) for req in inst.sink.requests()) <= 20


def test_redirect_replaces_every_recipient(inst):
    """A REDIRECT (here as the client attribute smtpd sends for an access
    map action) delivers to that address only; the recipients it replaced
    are logged as orig_to."""
    inst.start()
    res = inst.cleanup_submit("alice@example.org", ["bob@remote.test", "carol@remote.test"],
                              "Subject: r\n\nbody\n",
                              attrs={"rewrite_context": "remote", "redirect": "sink@other.test"})
    assert res["status"] == 0, res
    qid = res["queue_id"]
    for rcpt in ("bob@remote.test", "carol@remote.test"):
        inst.wait_log(rf": {qid}: to=<sink@other\.test>, orig_to=<{re.escape(rcpt)}>, "
                      rf"relay=testagent\[other\.test\].*status=sent")
    inst.wait_log(rf": {qid}: removed")
    delivered = {r["address"] for req in inst.sink.requests() for r in req["recipients"]}
    assert delivered == {"sink@other.test"}


def test_content_filter_parameter_routes_local_submissions(inst):
    """content_filter in main.cf: pickup hands it to cleanup, and the queue
    manager sends every recipient to that transport and next hop."""
    inst.settings.update({"default_transport": "error", "relay_transport": "error",
                          "content_filter": "test:[filter.test]:10025"})
    inst.write_main_cf("")
    inst.start()
    inst.run("sendmail", "-f", "alice@example.org", "bob@remote.test", input=b"Subject: f\n\nbody\n",
             check=True)
    m = inst.wait_log(r": (?P<qid>\w+): to=<bob@remote\.test>, relay=testagent\[\[filter\.test\]:10025\]"
                      r".*status=sent")
    assert m


def test_wakeup_from_cleanup_at_its_max_use(inst):
    """A cleanup process that ends at max_use still wakes the queue manager
    for its last message (it used to exit before the wakeup: the message
    then waited for the queue manager's next timer, 300 s)."""
    inst.write_master_cf(inst.read_master_cf().replace(
        "cleanup unix n - n - 0 cleanup", "cleanup unix n - n - 0 cleanup -o max_use=1"))
    inst.start()
    for n in range(3):
        qid = submit(inst, "alice@example.org", [f"bob{n}@remote.test"])
        delivery_line(inst, qid, f"bob{n}@remote.test", "sent", timeout=10)


def test_queue_files_are_recycled(inst):
    """The queue manager stocks spare/ with empty files while idle
    (queue_spare_files of them) and a new message takes one (same inode, so
    its short queue ID ends in the same hex inode number). A delivered
    message's file moves to spare/ and the next message reuses it, emptied
    first: the agent gets exactly the new message. Files of messages over
    64 KB are removed, not kept."""
    spare = os.path.join(inst.queue_dir, "spare")
    inst.update_main_cf({"queue_spare_files": "1"})
    inst.start()
    deadline = time.monotonic() + 10
    while len(os.listdir(spare)) < 1:
        assert time.monotonic() < deadline, "the queue manager made no spare file"
        time.sleep(0.05)
    names = os.listdir(spare)
    st = os.stat(os.path.join(spare, names[0]))
    assert st.st_size == 0
    first = submit(inst, "alice@example.org", ["bob@remote.test"], subject="long", body="x" * 4000 + "\n")
    assert first[5:] == f"{st.st_ino:X}"
    inst.wait_log(rf"qmgr\[\d+\]: {first}: removed$")
    assert os.listdir(spare) == [first]
    inode = st.st_ino

    second = submit(inst, "alice@example.org", ["bob@remote.test"], subject="short", body="short\n")
    assert second != first and second[5:] == f"{inode:X}"
    inst.wait_log(rf"qmgr\[\d+\]: {second}: removed$")
    saved = inst.sink.saved()[(second, "bob@remote.test")]
    assert b"Subject: short\n" in saved and saved.endswith(b"\n\nshort\n") and b"xxxx" not in saved
    assert os.listdir(spare) == [second]

    third = submit(inst, "alice@example.org", ["bob@remote.test"], subject="big", body=("y" * 999 + "\n") * 70)
    assert third[5:] == f"{inode:X}"
    inst.wait_log(rf"qmgr\[\d+\]: {third}: removed$")
    # Not kept: spare/ is empty or holds a new empty file the idle queue manager made.
    assert all(os.stat(os.path.join(spare, n)).st_size == 0 for n in os.listdir(spare))
    assert third not in os.listdir(spare)
