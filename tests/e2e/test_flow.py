"""in_flow_delay (spec security.md, queue.md 5.1): a message-submitting
process (smtpd, pickup) takes a token from the master's pipe before each
new message; the queue manager refills the pipe (up to
default_process_limit tokens) whenever it finishes a message. With no
token there, the process waits up to in_flow_delay seconds, then goes on.

Without a queue manager in master.cf nothing refills the pipe, so every
message waits the whole delay: smtpd answers the first RCPT (when it opens
the message with cleanup) only after in_flow_delay, and a sendmail message
reaches incoming/ only after it. With the queue manager running, tokens
are there and nothing waits; in_flow_delay = 0 turns the wait off.
Only lower bounds are timed strictly (a wait cannot be shorter than asked);
the upper bounds are loose.
"""

import os
import re
import smtplib
import time

import postern


def start(inst, qmgr, delay):
    if not qmgr:
        inst.write_master_cf(re.sub(r"^qmgr .*\n", "", inst.read_master_cf(), flags=re.M))
    inst.settings["in_flow_delay"] = delay
    inst.write_main_cf("")
    inst.start()


def rcpt_seconds(inst):
    """Seconds smtpd took to answer the first RCPT TO of a session."""
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
        c.ehlo("client.test")
        assert c.mail("alice@example.org")[0] == 250
        started = time.monotonic()
        assert c.rcpt("bob@example.net")[0] == 250
        took = time.monotonic() - started
        c.rset()
    return took


def test_smtpd_waits_without_tokens(make_instance):
    inst = make_instance()
    start(inst, qmgr=False, delay="2s")
    assert rcpt_seconds(inst) >= 1.9


def test_smtpd_does_not_wait_with_tokens_or_delay_0(make_instance):
    inst = make_instance()
    start(inst, qmgr=True, delay="2s")
    # The queue manager fills the pipe at start, as it stocks spare/ then.
    spare = os.path.join(inst.queue_dir, "spare")
    deadline = time.monotonic() + 10
    while not os.listdir(spare):
        assert time.monotonic() < deadline, "the queue manager did not start"
        time.sleep(0.05)
    assert rcpt_seconds(inst) < 1.5
    assert rcpt_seconds(inst) < 1.5
    inst.stop()

    other = make_instance()
    start(other, qmgr=False, delay="0")
    assert rcpt_seconds(other) < 1.5


def test_pickup_waits_without_tokens(make_instance):
    inst = make_instance()
    start(inst, qmgr=False, delay="2s")
    incoming = os.path.join(inst.queue_dir, "incoming")
    started = time.monotonic()
    res = inst.run("sendmail", "-f", "alice@example.org", "bob@example.org",
                   input=b"Subject: flow\n\nbody\n")
    assert res.returncode == 0, res
    deadline = started + 20
    while not os.listdir(incoming):
        assert time.monotonic() < deadline, inst.log_tail()
        time.sleep(0.05)
    assert time.monotonic() - started >= 1.9
