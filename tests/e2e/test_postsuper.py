"""postsuper end to end: queue.md 9.4 and acceptance checks 13, 21-24, 26.

Each test runs an instance whose master.cf has pickup and cleanup but no
qmgr, so messages stay where the test puts them. Messages enter through
public/cleanup (Instance.cleanup_submit) and land in incoming/; a
"deferred" message is made the way the queue manager would leave it: the
file moved to deferred/H/ID and a defer log written to defer/H/ID.
The tests read what an administrator reads: postsuper's standard error,
the log and the queue directories.
"""

import os
import re
import stat
import subprocess
import time

import postern

MASTER_CF = """\
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
"""

DEFER_LOG = ("recipient=bob@example.net\noriginal_recipient=\noffset=100\ndsn_orig_rcpt=\n"
             "dsn_notify=0\nstatus=4.4.1\naction=delayed\nreason=connect to example.net: refused\n"
             "diag_type=\ndiag_text=\nmta_type=\nmta_name=\nlog_time=1763712345\n\n")


def start(inst, settings=""):
    inst.write_master_cf(MASTER_CF)
    inst.write_main_cf(settings)
    inst.start()
    return inst


def submit(inst, count=1, content="Subject: t\n\nhello\n"):
    """COUNT messages into incoming/; their queue IDs in submission order."""
    ids = []
    for _ in range(count):
        reply = inst.cleanup_submit("alice@example.com", ["bob@example.net"], content)
        assert reply["status"] == 0, reply
        ids.append(reply["queue_id"])
    inst.wait_queued(count)
    return ids


def qpath(inst, queue, qid):
    """Path of QID in QUEUE: deferred and defer hashed one level deep (defaults)."""
    if queue in ("deferred", "defer"):
        return os.path.join(inst.queue_dir, queue, qid[0], qid)
    return os.path.join(inst.queue_dir, queue, qid)


def own(inst, path):
    if inst.user is not None:
        os.chown(path, inst.user.pw_uid, inst.user.pw_gid)


def defer(inst, qid):
    """Move QID from incoming/ to deferred/ with a defer log, as qmgr would."""
    for queue in ("deferred", "defer"):
        d = os.path.dirname(qpath(inst, queue, qid))
        if not os.path.isdir(d):
            os.mkdir(d, 0o700)
            own(inst, d)
    os.rename(qpath(inst, "incoming", qid), qpath(inst, "deferred", qid))
    with open(qpath(inst, "defer", qid), "w") as f:
        f.write(DEFER_LOG)
    own(inst, qpath(inst, "defer", qid))


def postsuper(inst, *args, input=None):
    result = inst.run("postsuper", *args, input=input)
    assert result.returncode == 0, str(result) + inst.log_tail()
    return result


def logged(inst, mark, text):
    """Assert that the log got `postfix/postsuper[PID]: TEXT` since MARK."""
    inst.wait_log(r"postfix/postsuper\[\d+\]: " + re.escape(text) + "$", since=mark)


def test_delete_one_message(make_instance):
    """Check 21: one ID, an unknown one, a malformed one."""
    inst = start(make_instance())
    qid, other = submit(inst, 2)
    defer(inst, qid)
    mark = inst.log_mark()
    result = postsuper(inst, "-d", qid)
    assert result.stderr == f"postsuper: {qid}: removed\npostsuper: Deleted: 1 message\n"
    assert not os.path.exists(qpath(inst, "deferred", qid))
    assert not os.path.exists(qpath(inst, "defer", qid))
    assert inst.queue_ids() == [other]
    logged(inst, mark, f"{qid}: removed")
    logged(inst, mark, "Deleted: 1 message")

    assert postsuper(inst, "-d", qid).stderr == "postsuper: Deleted: 0 messages\n"
    assert postsuper(inst, "-d", "bad/id").stderr == (
        "postsuper: warning: invalid mail queue id: bad/id\npostsuper: Deleted: 0 messages\n")
    assert inst.queue_ids() == [other]


def test_delete_all_in_named_queue(make_instance):
    """Check 22: ALL is per queue and silent per message; lower-case all is an ID."""
    inst = start(make_instance())
    ids = submit(inst, 4)
    for qid in ids[:3]:
        defer(inst, qid)
    assert postsuper(inst, "-d", "ALL", "deferred").stderr == "postsuper: Deleted: 3 messages\n"
    assert inst.queue_ids("deferred") == [] and inst.queue_ids() == [ids[3]]
    assert inst.queue_ids("defer") == []
    assert postsuper(inst, "-d", "all").stderr == "postsuper: Deleted: 0 messages\n"
    assert inst.queue_ids() == [ids[3]]


def test_hold_ids_from_stdin(make_instance):
    """Check 23: IDs from standard input, one per line."""
    inst = start(make_instance())
    id1, id2 = submit(inst, 2)
    defer(inst, id2)
    result = postsuper(inst, "-h", "-", input=f"{id1}\n{id2}\n")
    assert result.stderr == (f"postsuper: {id1}: placed on hold\npostsuper: {id2}: placed on hold\n"
                             "postsuper: Placed on hold: 2 messages\n")
    assert inst.queue_ids("hold") == sorted([id1, id2])
    assert inst.queue_ids() == [] and inst.queue_ids("deferred") == []
    # The defer log stays: the message keeps its ID.
    assert os.path.exists(qpath(inst, "defer", id2))


def test_release_from_hold(make_instance):
    """Check 13: a message held by body_checks goes to deferred/ with -H."""
    inst = make_instance()
    inst.write_file("bc", "/^secret/ HOLD\n")
    start(inst, f"body_checks = regexp:{inst.path}/bc\n")
    reply = inst.cleanup_submit("alice@example.com", ["bob@example.net"], "Subject: t\n\nsecret\n")
    qid = reply["queue_id"]
    assert inst.queue_ids("hold") == [qid]
    os.utime(qpath(inst, "hold", qid), (1000000000, 1000000000))
    result = postsuper(inst, "-H", qid)
    assert result.stderr == (f"postsuper: {qid}: released from hold\n"
                             "postsuper: Released from hold: 1 message\n")
    assert inst.queue_ids("hold") == []
    path = qpath(inst, "deferred", qid)
    assert os.path.exists(path)
    # A fresh time stamp: deferred/ mtime is the next retry time.
    assert abs(os.stat(path).st_mtime - time.time()) < 60
    # -H only looks in hold/.
    assert postsuper(inst, "-H", qid).stderr == "postsuper: Released from hold: 0 messages\n"


def received_count(text):
    return sum(1 for line in text.split("\n") if line.startswith("Received: "))


def test_requeue(make_instance):
    """Check 24: pickup and cleanup process the message again under a new ID."""
    inst = start(make_instance())
    (qid,) = submit(inst)
    defer(inst, qid)
    before = received_count(inst.postcat(qid, "-h"))
    mark = inst.log_mark()
    result = postsuper(inst, "-r", qid)
    assert result.stderr == f"postsuper: {qid}: requeued\npostsuper: Requeued: 1 message\n"
    m = inst.wait_log(r"postfix/pickup\[\d+\]: ([0-9A-Za-z]+): uid=\d+ from=<alice@example\.com> "
                      rf"orig_id={qid}$", since=mark)
    new = m.group(1)
    assert new != qid
    assert inst.wait_queued(1) == [new]
    assert inst.queue_ids("deferred") == []
    deadline = time.monotonic() + 10
    while os.listdir(os.path.join(inst.queue_dir, "maildrop")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.listdir(os.path.join(inst.queue_dir, "maildrop")) == []
    text = inst.postcat(new, "-h")
    assert received_count(text) == before + 1, text
    assert "hello" in inst.postcat(new, "-b")


def test_requeue_sets_fresh_time_when_stopped(make_instance):
    """Without a running system the file waits in maildrop/ with a new mtime."""
    inst = make_instance()
    inst.write_master_cf(MASTER_CF)
    start(inst)
    (qid,) = submit(inst)
    inst.stop()
    os.utime(qpath(inst, "incoming", qid), (1000000000, 1000000000))
    assert postsuper(inst, "-r", "ALL").stderr == "postsuper: Requeued: 1 message\n"
    path = qpath(inst, "maildrop", qid)
    assert abs(os.stat(path).st_mtime - time.time()) < 60
    assert inst.queue_ids() == []


def test_expire_sets_mode_bit(make_instance):
    """-e sets MAIL_QUEUE_STAT_EXPIRE (g+x); -f also releases from hold."""
    inst = start(make_instance())
    id1, id2, id3 = submit(inst, 3)
    defer(inst, id1)
    assert postsuper(inst, "-h", id2).returncode == 0
    result = postsuper(inst, "-e", id1, "-e", id2, "-f", id3)
    assert result.stderr == (f"postsuper: {id1}: expired\npostsuper: {id2}: expired\n"
                             f"postsuper: {id3}: expired\n"
                             "postsuper: Force-expired: 3 messages\n"
                             "postsuper: Released from hold: 0 messages\n")
    for queue, qid in (("deferred", id1), ("hold", id2), ("incoming", id3)):
        mode = stat.S_IMODE(os.stat(qpath(inst, queue, qid)).st_mode)
        assert mode == 0o710, (queue, oct(mode))
    # Already expired: -f only releases it.
    result = postsuper(inst, "-f", id2)
    assert result.stderr == (f"postsuper: {id2}: released from hold\n"
                             "postsuper: Force-expired: 0 messages\n"
                             "postsuper: Released from hold: 1 message\n")
    assert stat.S_IMODE(os.stat(qpath(inst, "deferred", id2)).st_mode) == 0o710


def test_requests_in_order_and_totals(make_instance):
    """Per-ID lines in command-line order; totals in Postfix's order."""
    inst = start(make_instance())
    a, b, c = submit(inst, 3)
    defer(inst, c)
    result = postsuper(inst, "-h", a, "-d", b, "-r", c)
    assert result.stderr == (f"postsuper: {a}: placed on hold\npostsuper: {b}: removed\n"
                             f"postsuper: {c}: requeued\npostsuper: Requeued: 1 message\n"
                             "postsuper: Deleted: 1 message\npostsuper: Placed on hold: 1 message\n")


def test_hold_from_maildrop_is_refused_and_bad_queue(make_instance):
    inst = start(make_instance())
    (qid,) = submit(inst)
    assert postsuper(inst, "-h", qid, "maildrop").stderr == "postsuper: Placed on hold: 0 messages\n"
    result = inst.run("postsuper", "-d", "ALL", "bogus")
    assert result.returncode == 1
    assert result.stderr == "postsuper: fatal: invalid directory name: bogus\n"
    result = inst.run("postsuper", "-x")
    assert result.returncode == 1 and "postsuper: fatal: usage: postsuper" in result.stderr
    assert inst.queue_ids() == [qid]


def test_structure_repair(make_instance):
    """-s: a name that does not match the inode is fixed (logs follow), a
    misplaced file moves to its hash subdirectory, a stray directory goes."""
    inst = start(make_instance())
    a, b = submit(inst, 2)
    inst.stop()
    # A queue file "restored from backup": right microseconds, wrong inode.
    wrong = a[:5] + "1"
    os.makedirs(os.path.join(inst.queue_dir, "deferred", wrong[0]), exist_ok=True)
    os.rename(qpath(inst, "incoming", a), qpath(inst, "deferred", wrong))
    os.makedirs(os.path.dirname(qpath(inst, "defer", wrong)), exist_ok=True)
    with open(qpath(inst, "defer", wrong), "w") as f:
        f.write(DEFER_LOG)
    # A deferred file at the top of deferred/ (unhashed), and a stray subdirectory.
    os.rename(qpath(inst, "incoming", b), os.path.join(inst.queue_dir, "deferred", b))
    os.mkdir(os.path.join(inst.queue_dir, "hold", "X"))
    for dirpath, dirs, files in os.walk(inst.queue_dir):
        for n in dirs + files:
            own(inst, os.path.join(dirpath, n))

    result = postsuper(inst, "-s")
    assert result.stderr == ("postsuper: Renamed to match inode number: 1 message\n"
                             "postsuper: warning: QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS\n")
    assert sorted(inst.queue_ids("deferred")) == sorted([a, b])
    assert os.path.exists(qpath(inst, "deferred", a)) and os.path.exists(qpath(inst, "deferred", b))
    assert os.path.exists(qpath(inst, "defer", a)) and not os.path.exists(qpath(inst, "defer", wrong))
    assert not os.path.exists(os.path.join(inst.queue_dir, "hold", "X"))
    # A second run has nothing to do.
    assert postsuper(inst, "-s").stderr == ""


def test_purge_and_default_operation(make_instance):
    """-p removes never-completed files older than a week; no options = -s -p."""
    inst = start(make_instance())
    (qid,) = submit(inst)
    inst.stop()
    incoming = os.path.join(inst.queue_dir, "incoming")
    old, recent, bogus = os.path.join(incoming, "ABCDE1"), os.path.join(incoming, "ABCDE2"), \
        os.path.join(incoming, "12345.678")
    for path, mode in ((old, 0o600), (recent, 0o600), (bogus, 0o700)):
        with open(path, "w") as f:
            f.write("x")
        os.chmod(path, mode)
        own(inst, path)
    week = time.time() - 8 * 86400
    os.utime(old, (week, week))
    os.utime(os.path.join(incoming, qid), (week, week))  # complete: kept
    result = postsuper(inst, "-p")
    assert result.stderr == "postsuper: warning: bogus file name: incoming/12345.678\n"
    assert sorted(os.listdir(incoming)) == sorted([qid, "ABCDE2", "12345.678"])
    # Default: -s -p; ABCDE2 now gets its inode name.
    fixed = "ABCDE%X" % os.stat(recent).st_ino
    result = postsuper(inst)
    assert result.stderr == ("postsuper: warning: bogus file name: incoming/12345.678\n"
                             "postsuper: Renamed to match inode number: 1 message\n"
                             "postsuper: warning: QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS\n")
    assert sorted(os.listdir(incoming)) == sorted([qid, fixed, "12345.678"])


def test_rootless_owner_and_others(make_instance):
    """A rootless instance: its owner may use postsuper, another user may
    not, and root acts as the owner (new files keep the owner's uid)."""
    inst = start(make_instance())
    (qid,) = submit(inst)
    assert os.geteuid() == 0 and inst.user is not None, "these checks need root"
    script = 'exec setpriv --reuid=daemon --regid=daemon --clear-groups -- "$@"'
    result = subprocess.run(["/bin/sh", "-c", script, "sh", inst.program("postsuper"), "-c", inst.path,
                             "-h", qid], capture_output=True, text=True, cwd="/")
    # (The instance directory is private, so it fails at reading main.cf.)
    assert result.returncode != 0 and result.stderr.startswith("postsuper: fatal: "), result.stderr
    assert inst.queue_ids() == [qid]
    result = postern.run_command([inst.program("postsuper"), "-c", inst.path, "-h", qid], cwd="/")
    assert result.returncode == 0, str(result)
    assert inst.queue_ids("hold") == [qid]
    defer_dir = os.path.join(inst.queue_dir, "deferred", qid[0])
    result = postern.run_command([inst.program("postsuper"), "-c", inst.path, "-H", qid], cwd="/")
    assert result.returncode == 0, str(result)
    assert os.stat(defer_dir).st_uid == inst.user.pw_uid


def test_system_mode_requires_root(make_instance):
    """Check 26: system mode, non-root -> fatal; root works as mail_owner."""
    inst = make_instance(system=True)
    inst.write_main_cf("")
    inst.write_master_cf(MASTER_CF)
    inst.postfix("check", check=True)
    script = f'exec setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"'
    result = subprocess.run(["/bin/sh", "-c", script, "sh", inst.program("postsuper"), "-c", inst.path,
                             "-d", "ALL"], capture_output=True, text=True, cwd="/")
    assert result.returncode != 0
    assert result.stderr == "postsuper: fatal: use of this command is reserved for the superuser\n"
    result = inst.run("postsuper", "-d", "ALL")
    assert result.returncode == 0 and result.stderr == "postsuper: Deleted: 0 messages\n", str(result)
