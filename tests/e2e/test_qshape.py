"""qshape end to end: queue.md 9.6 and acceptance check 49.

Check 49 uses messages made by cleanup (the instance runs no qmgr; the
files are moved to deferred/ as the queue manager would). The comparison
with Debian's /usr/sbin/qshape uses queue files written here in the
layout Postfix writes (docs/queue-file.md), with chosen arrival times,
so both programs see the same queue: the table text must be the same
(rows with equal counts and name lengths may come in any order in
Debian's, so the rows are compared as sets and the heading and TOTAL
line exactly).
"""

import os
import subprocess
import time

import postern

MASTER_CF = "cleanup unix n - n - 0 cleanup\n"
DEBIAN_QSHAPE = "/usr/sbin/qshape"


def write_qfile(path, arrival, sender, rcpts, done=(), mode=0o700, maildrop=False):
    """A queue file at PATH: SIZE (content bytes as Postfix counts them),
    TIME, FROM, RCPT/DONE, content, XTRA, END; maildrop files start at FROM."""
    enc = postern.encode_record
    content = b"".join(enc("N", line) for line in (b"Subject: t", b"", b"body"))
    env = [enc("T", f"{int(arrival)} 0")] if not maildrop else []
    env.append(enc("S", sender))
    env += [enc("D", r) for r in done] + [enc("R", r) for r in rcpts]
    head = b"".join(env)
    if not maildrop:
        size = (f"{len(content):15d} {81 + len(head):15d} {len(rcpts):15d} {0:15d} "
                f"{81 + len(head) + 2 + len(content):15d}")
        head = enc("C", size) + head
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(head + enc("M") + content + enc("X") + enc("E"))
    os.chmod(path, mode)
    if maildrop:
        os.utime(path, (arrival, arrival))


def test_check_49_deferred_domains(make_instance):
    inst = make_instance()
    inst.write_master_cf(MASTER_CF)
    inst.start()
    ids = []
    for rcpt in ("a@example.net", "b@Example.NET"):
        reply = inst.cleanup_submit("alice@example.com", [rcpt], "Subject: t\n\nhi\n")
        assert reply["status"] == 0, reply
        ids.append(reply["queue_id"])
    inst.wait_queued(2)
    inst.stop()
    for qid in ids:
        d = os.path.join(inst.queue_dir, "deferred", qid[0])
        os.makedirs(d, exist_ok=True)
        os.rename(os.path.join(inst.queue_dir, "incoming", qid), os.path.join(d, qid))
    result = inst.run("qshape", "deferred", check=True)
    assert result.stdout == (
        "                                         T  5 10 20 40 80 160 320 640 1280 1280+\n"
        "                                  TOTAL  2  2  0  0  0  0   0   0   0    0     0\n"
        "                            example.net  2  2  0  0  0  0   0   0   0    0     0\n")
    # Default queues: incoming and active, now empty.
    assert inst.run("qshape", check=True).stdout.split("\n")[1].split() == ["TOTAL"] + ["0"] * 11
    assert inst.run("qshape", "-s", "deferred", check=True).stdout.split("\n")[2].split() == \
        ["example.com", "2", "2"] + ["0"] * 9


def populate(queue_dir):
    """A deferred queue with messages of many ages and domains."""
    now = time.time()
    minute = 60
    msgs = [
        (2 * minute, "alice@example.com", ["a@one.example.net", "b@one.example.net", "c@two.example.net"]),
        (7 * minute, "", ["d@three.example.net"]),
        (30 * minute, "bob@EXAMPLE.com", ["e@four.example.net", "f@Other.Test."]),
        (3 * 3600, "carol@b.example.org", ["g@a-very-long-subdomain-name.of.some.example.museum"]),
        (2 * 86400, "dave@example.com", ["h@five.example.net", "i@x.one.example.net"]),
        (30 * 86400, "erin@c.example.org", ["j@y.one.example.net", "k@z..one.example.net"]),
    ]
    ids = ["B1234A7E1", "C2234A7E2", "D3234A7E3", "F4234A7E4", "G5234A7E5", "H6234A7E6"]
    for qid, (age, sender, rcpts) in zip(ids, msgs):
        write_qfile(os.path.join(queue_dir, "deferred", qid[0], qid), now - age, sender, rcpts,
                    done=["done@skipped.example"])
    # Not counted: an incomplete file, a name that is no queue ID.
    write_qfile(os.path.join(queue_dir, "deferred", "J", "J7234A7E7"), now, "x@y.z", ["n@incomplete.example"],
                mode=0o600)
    write_qfile(os.path.join(queue_dir, "deferred", "K", "K82.34"), now, "x@y.z", ["n@badname.example"])
    # maildrop: no arrival time record; the file's mtime counts.
    write_qfile(os.path.join(queue_dir, "maildrop", "M9234A7E9"), now - 100 * minute, "frank@example.com",
                ["o@one.example.net"], maildrop=True)


def own_tree(inst):
    """Give the test's files to the account the instance's programs run as."""
    if inst.user is None:
        return
    for dirpath, dirs, files in os.walk(inst.queue_dir):
        for name in dirs + files:
            os.lchown(os.path.join(dirpath, name), inst.user.pw_uid, inst.user.pw_gid)


def compare(ours, theirs):
    a, b = ours.split("\n"), theirs.split("\n")
    assert a[:2] == b[:2], (ours, theirs)
    assert sorted(a) == sorted(b), (ours, theirs)


def test_same_table_as_debian_qshape(make_instance):
    inst = make_instance()
    populate(inst.queue_dir)
    own_tree(inst)
    deferred = os.path.join(inst.queue_dir, "deferred")
    maildrop = os.path.join(inst.queue_dir, "maildrop")
    for args in ([], ["-s"], ["-p", "-m", "2"], ["-p"], ["-b", "5", "-t", "10"], ["-l", "-b", "12"],
                 ["-w", "120"], ["-w", "40"], ["-s", "-p", "-m", "1"]):
        for queues in ([deferred], [deferred, maildrop]):
            ours = inst.run("qshape", *args, *queues, check=True).stdout
            theirs = subprocess.run([DEBIAN_QSHAPE, *args, *queues], capture_output=True, text=True,
                                    check=True).stdout
            compare(ours, theirs)
    # Relative names are below queue_directory (config from MAIL_CONFIG).
    assert inst.run("qshape", "deferred", check=True).stdout == \
        inst.run("qshape", deferred, check=True).stdout


def test_rows_and_truncation(make_instance):
    inst = make_instance()
    populate(inst.queue_dir)
    own_tree(inst)
    out = inst.run("qshape", "-p", "-m", "2", "deferred", check=True).stdout.split("\n")
    assert out[0].endswith("1280 1280+") and len(out[0]) == 80
    rows = {line.split()[0]: line.split()[1:] for line in out[1:] if line}
    assert rows["TOTAL"] == ["11", "3", "1", "0", "2", "0", "0", "1", "0", "0", "4"]
    assert rows["one.example.net"][0] == "2"
    assert rows[".one.example.net"][0] == "3"     # x.one, y.one, z.one
    assert rows[".example.net"][0] == "9"
    assert "other.test" in rows                   # lower case, trailing dot gone
    assert "+-subdomain-name.of.some.example.museum" in rows  # "+" and the tail
    assert "done" not in " ".join(rows) and "incomplete.example" not in rows
