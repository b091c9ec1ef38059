"""End-to-end tests of the queue listing (showq + postqueue -p/-j, mailq,
sendmail -bp) and postqueue -f, usage and permissions (queue.md 9.2, 9.3;
acceptance checks 18, 19, 20 and 50).

Messages are queued with cleanup_submit() into an instance whose master.cf
has no qmgr, so they stay in incoming/. Deferred mail is made by moving a
file to deferred/X/ID and writing its defer log in the format documented in
src/global/bounce_log.h. Expected listings are built here from the spec's
printf layouts and the queue file's own TIME and SIZE records.
"""

import json
import os
import re
import socket
import stat
import threading
import time

import postern

MASTER_CF = """\
cleanup unix n - n - 0 cleanup
showq unix n - n - - showq
flush unix n - n 1000? 0 flush
"""

REASON = "connect to mail.example.net[192.0.2.1]:25: Connection refused"


def start(inst, main_cf=""):
    inst.write_main_cf(main_cf)
    inst.write_master_cf(MASTER_CF)
    inst.start()


def submit(inst, sender, recipients, body="hello\n"):
    """Queue one message through cleanup; return its queue ID once complete."""
    before = set(inst.queue_ids("incoming"))
    reply = inst.cleanup_submit(sender, recipients, f"Subject: t\n\n{body}")
    assert reply["status"] == 0, reply
    ids = inst.wait_queued(len(before) + 1)
    assert reply["queue_id"] in ids
    return reply["queue_id"]


def queue_path(inst, queue, qid):
    """The file of QID in QUEUE (hashed queues: one level, first ID char)."""
    if queue in ("deferred", "defer"):
        return os.path.join(inst.queue_dir, queue, qid[0], qid)
    return os.path.join(inst.queue_dir, queue, qid)


def makedirs_owned(inst, path):
    if not os.path.isdir(path):
        os.makedirs(path)
        inst._own(path)


def move(inst, qid, src, dst):
    """Move QID's queue file between queues, as qmgr or postsuper would."""
    new = queue_path(inst, dst, qid)
    makedirs_owned(inst, os.path.dirname(new))
    os.rename(queue_path(inst, src, qid), new)
    return new


def write_defer_log(inst, qid, entries):
    """defer/X/ID in the bounce_log.h format; ENTRIES: [(rcpt, reason)]."""
    path = queue_path(inst, "defer", qid)
    makedirs_owned(inst, os.path.dirname(path))
    text = ""
    for rcpt, reason in entries:
        text += (f"recipient={rcpt}\noriginal_recipient={rcpt}\noffset=100\n"
                 f"dsn_orig_rcpt=\ndsn_notify=0\nstatus=4.4.1\naction=delayed\n"
                 f"reason={reason}\ndiag_type=\ndiag_text=\nmta_type=\nmta_name=\n"
                 f"log_time={int(time.time())}\n\n")
    with open(path, "w") as f:
        f.write(text)
    inst._own(path)


def envelope(inst, queue, qid):
    """(arrival seconds, message size) from QID's TIME and SIZE records."""
    with open(queue_path(inst, queue, qid), "rb") as f:
        records = postern.decode_records(f.read())
    size = int(records[0][1].split()[0])
    arrival = int(next(d for t, d in records if t == "T").split()[0])
    return arrival, size


def short_message_line(qid, size, arrival, sender):
    return "%-11s %7d %20.20s %s\n" % (qid, size, time.asctime(time.localtime(arrival)), sender)


def reason_line(reason):
    return "%*s(%s)\n" % (max(76 - len(reason), 0), "", reason)


def rcpt_line(addr):
    return "%-11s %7s %-20s %s\n" % ("", "", "", addr)


SHORT_HEADER = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"


def test_empty_queue_listing(instance):
    # Acceptance 19.
    start(instance)
    result = instance.run("postqueue", "-p", check=0)
    assert result.stdout == "Mail queue is empty\n"
    assert result.stderr == ""
    assert instance.run("postqueue", "-j", check=0).stdout == ""


def test_deferred_listing_byte_for_byte(instance):
    # Acceptance 18: one deferred message with a reason.
    start(instance)
    qid = submit(instance, "kdent@example.com", ["kdent@example.net"])
    path = move(instance, qid, "incoming", "deferred")
    os.utime(path, (time.time() + 300, time.time() + 300))
    write_defer_log(instance, qid, [("kdent@example.net", REASON)])
    arrival, size = envelope(instance, "deferred", qid)
    want = (SHORT_HEADER + short_message_line(qid, size, arrival, "kdent@example.com")
            + reason_line(REASON) + rcpt_line("kdent@example.net")
            + "\n-- 0 Kbytes in 1 Request.\n")
    result = instance.run("postqueue", "-p", check=0)
    assert result.stdout == want
    lines = result.stdout.splitlines()
    assert len(lines[2]) == 78 and lines[2].endswith(")")      # reason ends at column 78
    assert lines[3].startswith(" " * 41 + "kdent@example.net")  # 41 spaces
    # mailq and sendmail -bp print the same.
    assert instance.run("mailq", check=0).stdout == want
    assert instance.run("sendmail", "-bp", check=0).stdout == want


def test_reason_lines_and_several_messages(instance):
    start(instance)
    a = submit(instance, "", ["r1@example.net", "r2@example.net", "r3@example.net", "r4@example.net"])
    b = submit(instance, "alice@example.com", ["bob@example.org"], body="x" * 3000 + "\n")
    move(instance, a, "incoming", "deferred")
    long_reason = "host mx.example.net said: " + "4" * 80
    write_defer_log(instance, a, [("r1@example.net", "first attempt"),
                                  ("r1@example.net", REASON),  # later entry wins
                                  ("r2@example.net", REASON),
                                  ("r4@example.net", long_reason)])
    out = instance.run("postqueue", "-p", check=0).stdout
    arr_a, size_a = envelope(instance, "deferred", a)
    arr_b, size_b = envelope(instance, "incoming", b)
    # incoming is listed before deferred; the null sender is MAILER-DAEMON.
    want = (SHORT_HEADER
            + short_message_line(b, size_b, arr_b, "alice@example.com")
            + rcpt_line("bob@example.org") + "\n"
            + short_message_line(a, size_a, arr_a, "MAILER-DAEMON")
            + reason_line(REASON) + rcpt_line("r1@example.net")
            + rcpt_line("r2@example.net")                 # same reason: no new line
            + reason_line("reason unavailable") + rcpt_line("r3@example.net")
            + "(" + long_reason + ")\n" + rcpt_line("r4@example.net")
            + "\n-- %d Kbytes in 2 Requests.\n" % ((size_a + size_b) // 1024))
    assert out == want
    assert (size_a + size_b) // 1024 >= 2


def test_json_listing(instance):
    # Acceptance 20.
    start(instance)
    qid = submit(instance, "kdent@example.com", ["kdent@example.net", "x@example.net"])
    move(instance, qid, "incoming", "deferred")
    write_defer_log(instance, qid, [("kdent@example.net", 'refused "now"\\')])
    arrival, size = envelope(instance, "deferred", qid)
    out = instance.run("postqueue", "-j", check=0).stdout
    lines = out.splitlines()
    assert len(lines) == 1 and out.endswith("\n")
    obj = json.loads(lines[0])
    assert list(obj) == ["queue_name", "queue_id", "arrival_time", "message_size",
                         "forced_expire", "sender", "recipients"]
    assert obj == {"queue_name": "deferred", "queue_id": qid, "arrival_time": arrival,
                   "message_size": size, "forced_expire": False,
                   "sender": "kdent@example.com",
                   "recipients": [{"address": "kdent@example.net",
                                   "delay_reason": 'refused "now"\\'},
                                  {"address": "x@example.net"}]}
    assert lines[0].startswith('{"queue_name": "deferred", "queue_id": ')


def test_hold_active_and_expire_marks(instance):
    start(instance)
    held = submit(instance, "a@example.com", ["b@example.net"])
    active = submit(instance, "c@example.com", ["d@example.net"])
    expired = submit(instance, "e@example.com", ["f@example.net"])
    move(instance, held, "incoming", "hold")
    move(instance, active, "incoming", "active")
    path = queue_path(instance, "incoming", expired)
    os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) | stat.S_IXGRP)   # postsuper -e
    # A file still being written (0600) and a damaged one are not listed.
    bad = os.path.join(instance.queue_dir, "incoming", "BADFILE1")
    with open(bad, "wb") as f:
        f.write(b"C\x05junk")
    os.chmod(bad, 0o700)
    instance._own(bad)
    partial = os.path.join(instance.queue_dir, "incoming", "PARTIAL1")
    with open(partial, "wb") as f:
        f.write(b"")
    os.chmod(partial, 0o600)
    instance._own(partial)
    out = instance.run("postqueue", "-p", check=0).stdout
    ids = [line.split()[0] for line in out.splitlines()[1:]
           if line and not line.startswith(" ") and not line.startswith("--")]
    # Queue order: active, incoming, hold.
    assert ids == [active + "*", expired + "#", held + "!"]
    assert "BADFILE1" not in out and "PARTIAL1" not in out
    assert "-- 0 Kbytes in 3 Requests." in out
    objs = [json.loads(line) for line in instance.run("postqueue", "-j", check=0).stdout.splitlines()]
    assert [(o["queue_name"], o["forced_expire"]) for o in objs] == [
        ("active", False), ("incoming", True), ("hold", False)]


def test_long_queue_ids_layout(instance):
    # Acceptance 50.
    start(instance, "enable_long_queue_ids = yes\n")
    qid = submit(instance, "alice@example.com", ["bob@example.net"])
    assert re.match(r"^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]+$", qid)
    arrival, size = envelope(instance, "incoming", qid)
    date = time.asctime(time.localtime(arrival))
    want = ("%-17s %8s %-19s %s\n" % ("----Queue ID-----", "--Size--", "---Arrival Time----",
                                       "--Sender/Recipient------")
            + "%-17s %8d %19.19s %s\n" % (qid, size, date, "alice@example.com")
            + "%-17s %8s %-19s %s\n" % ("", "", "", "bob@example.net")
            + "\n-- 0 Kbytes in 1 Request.\n")
    assert instance.run("postqueue", "-p", check=0).stdout == want


def test_maildrop_files_are_listed(instance):
    # A maildrop file has no SIZE record: its size is the file size.
    start(instance)
    result = instance.run("sendmail", "-f", "u@example.com", "v@example.net",
                          input="Subject: x\n\nbody\n", check=0)
    maildrop = os.path.join(instance.queue_dir, "maildrop")
    names = os.listdir(maildrop)
    assert len(names) == 1, result
    size = os.path.getsize(os.path.join(maildrop, names[0]))
    out = instance.run("postqueue", "-p", check=0).stdout
    assert out.splitlines()[1].startswith("%-11s %7d " % (names[0], size))
    assert out.splitlines()[1].endswith(" u@example.com")
    assert rcpt_line("v@example.net") in out


def test_mail_system_down(instance):
    start(instance)
    qid = submit(instance, "alice@example.com", ["bob@example.net"])
    move(instance, qid, "incoming", "deferred")
    write_defer_log(instance, qid, [("bob@example.net", REASON)])
    listing = instance.run("postqueue", "-p", check=0).stdout
    instance.stop()
    # An ordinary user (the instance's account) is refused.
    result = instance.run("postqueue", "-p", check=69)
    assert result.stderr == "postqueue: fatal: Queue report unavailable - mail system is down\n"
    assert result.stdout == ""
    result = instance.run("postqueue", "-f", check=69)
    assert "postqueue: fatal: Cannot flush mail queue - mail system is down\n" in result.stderr
    # root reads the queue itself, defer log reasons included.
    result = postern.run_command([instance.program("postqueue"), "-c", instance.path, "-p"],
                                 env=postern._clean_env())
    assert result.returncode == 0, result
    assert result.stderr == "postqueue: warning: Mail system is down -- accessing queue directly\n"
    assert result.stdout == listing


def test_flush_all_triggers_qmgr(instance):
    start(instance)
    # A stand-in for qmgr's public/qmgr socket.
    path = os.path.join(instance.queue_dir, "public", "qmgr")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o666)
    srv.listen(5)
    got = []

    def serve():
        conn, _ = srv.accept()
        data = b""
        while True:
            chunk = conn.recv(100)
            if not chunk:
                break
            data += chunk
        got.append(data)
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        result = instance.run("postqueue", "-f", check=0)
        assert result.stderr == ""
        t.join(10)
        assert got == [b"FA"]
        # sendmail -q is postqueue -f.
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        instance.run("sendmail", "-q", check=0)
        t.join(10)
        assert got == [b"FA", b"FA"]
    finally:
        srv.close()


USAGE = ("postqueue: fatal: usage: postqueue -f | postqueue -i queueid | postqueue -j | "
         "postqueue -p | postqueue -s site\n")


def test_usage_errors(instance):
    for args in ([], ["-p", "-j"], ["-f", "-p"], ["-x"], ["-p", "extra"], ["-s", "a", "-i", "b"]):
        result = instance.run("postqueue", *args, check=64)
        assert result.stderr.endswith(USAGE), (args, result)
        assert result.stdout == ""


def test_authorized_mailq_and_flush_users(instance):
    user = instance.user
    start(instance, f"authorized_mailq_users = root\nauthorized_flush_users = !{user.pw_name}, static:all\n")
    result = instance.run("postqueue", "-p")
    assert result.returncode != 0
    assert result.stderr == (f"postqueue: fatal: User {user.pw_name}({user.pw_uid}) "
                             "is not allowed to view the mail queue\n")
    assert instance.run("postqueue", "-j").returncode != 0
    result = instance.run("postqueue", "-f")
    assert result.returncode != 0
    assert result.stderr == (f"postqueue: fatal: User {user.pw_name}({user.pw_uid}) "
                             "is not allowed to flush the mail queue\n")
    # root is listed.
    result = postern.run_command([instance.program("postqueue"), "-c", instance.path, "-p"],
                                 env=postern._clean_env())
    assert result.returncode == 0 and result.stdout == "Mail queue is empty\n", result
