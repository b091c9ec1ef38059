"""End-to-end tests of the fast-flush service (flush(8), queue.md section 8
and 9.3; acceptance check 43): postqueue -s / -i, sendmail -qR / -qI, the
flush protocol of src/global/flush_clnt.h spoken over public/flush, and
the master's wakeup byte on the same socket.

The instance has no qmgr; a Python listener on public/qmgr stands in for
it and records the trigger bytes; it is created after the test's
messages are queued (cleanup wakes qmgr for each new message). Deferred mail is made by moving a queue
file to deferred/X/ID.
"""

import os
import socket
import stat
import threading
import time

import postern
from test_postqueue import MASTER_CF, move, queue_path, submit

FLUSH_STAT_OK, FLUSH_STAT_FAIL, FLUSH_STAT_BAD, FLUSH_STAT_DENY = 0, -1, -2, -3


class FakeQmgr:
    """A UNIX-domain listener at public/qmgr collecting trigger requests."""

    def __init__(self, inst):
        if inst.queue_ids("deferred"):
            # cleanup's own (failed) wakeup for the queued messages must be
            # over before we listen: it comes after cleanup's reply.
            inst.wait_log(r"cleanup\[\d+\]: warning: unable to look up public/qmgr")
        self.path = os.path.join(inst.queue_dir, "public", "qmgr")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.listen(10)
        self.got = []
        self.cond = threading.Condition()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = b""
            while True:
                chunk = conn.recv(100)
                if not chunk:
                    break
                data += chunk
            conn.close()
            with self.cond:
                self.got.append(data)
                self.cond.notify_all()

    def wait(self, count, timeout=10):
        with self.cond:
            self.cond.wait_for(lambda: len(self.got) >= count, timeout)
            return list(self.got)

    def close(self):
        self.sock.close()


def flush_request(inst, **attrs):
    """One request on public/flush; returns the answered status."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(os.path.join(inst.queue_dir, "public", "flush"))
    try:
        sock.sendall(b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in attrs.items()) + b"\0")
        reply = postern._read_attrs(sock.makefile("rb"))
    finally:
        sock.close()
    return int(reply["status"])


def start(inst, main_cf="fast_flush_domains = slow.test\n"):
    inst.write_main_cf(main_cf)
    inst.write_master_cf(MASTER_CF)
    inst.start()


def deferred_message(inst, rcpt="bob@slow.test"):
    qid = submit(inst, "alice@example.com", [rcpt])
    move(inst, qid, "incoming", "deferred")
    return qid


def flush_log(inst, site):
    return os.path.join(inst.queue_dir, "flush", site)


def assert_flushed(inst, qid):
    """QID moved deferred -> incoming with the MAIL_QUEUE_STAT_FLUSH bit."""
    assert not os.path.exists(queue_path(inst, "deferred", qid))
    mode = stat.S_IMODE(os.stat(queue_path(inst, "incoming", qid)).st_mode)
    assert mode & stat.S_IXOTH and mode & 0o700 == 0o700, oct(mode)


def test_site_not_eligible_and_bad_names(instance):
    # Acceptance 43, postqueue part.
    start(instance)
    qmgr = FakeQmgr(instance)
    try:
        result = instance.run("postqueue", "-s", "other.test", check=69)
        assert result.stderr == ('postqueue: fatal: Flush service is not configured for '
                                 'destination "other.test"\n')
        for bad in ("bad site", "a/b", "[300.1.1.1]", "[foo]", "-x.test"):
            result = instance.run("postqueue", "-s", bad, check=64)
            assert result.stderr == ('postqueue: fatal: Cannot flush mail queue - invalid '
                                     f'destination: "{bad}"\n'), bad
        assert flush_request(instance, request="add", site="other.test", queue_id="ABC123") == FLUSH_STAT_DENY
        assert flush_request(instance, request="add", site="slow.test", queue_id="bad/id") == FLUSH_STAT_BAD
        assert flush_request(instance, request="add", site="bad site", queue_id="ABC123") == FLUSH_STAT_BAD
        assert flush_request(instance, request="bogus") == FLUSH_STAT_BAD
        assert not os.path.exists(flush_log(instance, "other.test"))
        assert qmgr.got == []
    finally:
        qmgr.close()


def test_add_then_send_site(instance):
    start(instance)
    a = deferred_message(instance)
    b = deferred_message(instance, "carol@sub.slow.test")
    c = deferred_message(instance, "dave@other.test")
    qmgr = FakeQmgr(instance)
    try:
        # Sites are lower-cased; parent-domain matching for subdomains.
        assert flush_request(instance, request="add", site="SLOW.test", queue_id=a) == FLUSH_STAT_OK
        assert flush_request(instance, request="add", site="slow.test", queue_id=a) == FLUSH_STAT_OK
        assert flush_request(instance, request="add", site="slow.test", queue_id="GONE12345") == FLUSH_STAT_OK
        assert flush_request(instance, request="add", site="sub.slow.test", queue_id=b) == FLUSH_STAT_OK
        with open(flush_log(instance, "slow.test")) as f:
            assert f.read() == f"{a}\n{a}\nGONE12345\n"
        result = instance.run("postqueue", "-s", "slow.test", check=0)
        assert result.stdout == "" and result.stderr == ""
        assert_flushed(instance, a)
        assert qmgr.wait(1) == [b"I"]
        assert os.path.getsize(flush_log(instance, "slow.test")) == 0
        # Other sites' mail stays deferred until asked for.
        assert os.path.exists(queue_path(instance, "deferred", b))
        assert os.path.exists(queue_path(instance, "deferred", c))
        instance.run("sendmail", "-qRsub.slow.test", check=0)
        assert_flushed(instance, b)
        assert qmgr.wait(2) == [b"I", b"I"]
        assert os.path.exists(queue_path(instance, "deferred", c))
        # Nothing logged: nothing to do, no trigger.
        instance.run("postqueue", "-s", "slow.test", check=0)
        assert qmgr.got == [b"I", b"I"]
    finally:
        qmgr.close()


def test_send_file(instance):
    start(instance, "")
    a = deferred_message(instance)
    b = deferred_message(instance)
    qmgr = FakeQmgr(instance)
    try:
        instance.run("postqueue", "-i", a, check=0)
        assert_flushed(instance, a)
        assert qmgr.wait(1) == [b"I"]
        instance.run("sendmail", f"-qI{b}", check=0)
        assert_flushed(instance, b)
        # Unknown IDs are no error; malformed ones are.
        instance.run("postqueue", "-i", "NOSUCH123", check=0)
        result = instance.run("postqueue", "-i", "bad/id", check=69)
        assert result.stderr == 'postqueue: fatal: Cannot flush queue ID - invalid name: "bad/id"\n'
        assert qmgr.wait(2) == [b"I", b"I"]
    finally:
        qmgr.close()


def test_wakeup_byte_and_refresh(instance):
    start(instance, "fast_flush_domains = slow.test, old.test, stale.test\n"
                    "fast_flush_refresh_time = 1h\nfast_flush_purge_time = 1d\n")
    old = deferred_message(instance, "x@old.test")
    fresh = deferred_message(instance)
    qmgr = FakeQmgr(instance)
    try:
        assert flush_request(instance, request="add", site="old.test", queue_id=old) == FLUSH_STAT_OK
        assert flush_request(instance, request="add", site="slow.test", queue_id=fresh) == FLUSH_STAT_OK
        stale = flush_log(instance, "stale.test")
        open(stale, "w").close()
        instance._own(stale)
        past = time.time() - 2 * 86400
        os.utime(flush_log(instance, "old.test"), (past, past))
        os.utime(stale, (past, past))
        # The master's wakeup: one byte, then close; no answer expected.
        mark = instance.log_mark()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(os.path.join(instance.queue_dir, "public", "flush"))
        sock.sendall(b"W")
        sock.close()
        assert qmgr.wait(1) == [b"I"]
        assert_flushed(instance, old)
        assert os.path.exists(queue_path(instance, "deferred", fresh))
        # The empty log older than fast_flush_purge_time is gone once the
        # service answers the next request (requests are served in order).
        assert flush_request(instance, request="refresh") == FLUSH_STAT_OK
        assert not os.path.exists(stale)
        assert "malformed" not in instance.log()[mark:]
        # purge sends every non-empty log.
        assert flush_request(instance, request="purge") == FLUSH_STAT_OK
        assert_flushed(instance, fresh)
        assert qmgr.wait(2) == [b"I", b"I"]
    finally:
        qmgr.close()


def test_flush_service_down(instance):
    # As Debian's Postfix: names and eligibility are checked before the
    # service is contacted.
    instance.write_main_cf("fast_flush_domains = slow.test\n")
    result = instance.run("postqueue", "-s", "other.test", check=69)
    assert result.stderr == ('postqueue: fatal: Flush service is not configured for '
                             'destination "other.test"\n')
    result = instance.run("postqueue", "-s", "[300.1.1.1]", check=64)
    assert result.stderr == ('postqueue: fatal: Cannot flush mail queue - invalid '
                             'destination: "[300.1.1.1]"\n')
    result = instance.run("postqueue", "-s", "slow.test", check=69)
    assert result.stderr.endswith("postqueue: fatal: Cannot flush mail queue - mail system is down\n")
    result = instance.run("postqueue", "-i", "ABC123", check=69)
    assert result.stderr.endswith("postqueue: fatal: Cannot flush mail queue - mail system is down\n")
