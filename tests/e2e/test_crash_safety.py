"""Crash safety of local submission (issue: Queue core, acceptance).

While 1,000 messages are submitted with sendmail from several threads, a
killer sends SIGKILL to cleanup, pickup and the master at random moments
(restarting the instance after the master dies). Afterwards every message
whose sendmail exited 0 must be in incoming/ exactly once as a complete
(mode 0700) file, and every complete file must be a whole, well-formed
queue file: nothing half-written is visible.
"""

import os
import random
import re
import signal
import threading
import time

import postern

MESSAGES = 1000
SUBMITTERS = 4
MASTER_CF = "pickup unix n - n 60 1 pickup\ncleanup unix n - n - 0 cleanup\n"


def service_pids(inst, names):
    """PIDs of the instance's processes running one of NAMES (argv[0])."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if os.path.basename(argv[0].decode(errors="replace")) in names \
                and f"MAIL_CONFIG={inst.config_dir}".encode() in env:
            pids.append(int(entry))
    return pids


def queue_file_subject(path):
    """The Subject of a complete queue file; AssertionError when the file
    is not a whole queue file (bad records or no END record)."""
    with open(path, "rb") as f:
        data = f.read()
    records = postern.decode_records(data)
    assert records and records[0][0] == "C" and records[-1][0] == "E", f"{path}: incomplete queue file"
    for rtype, value in records:
        m = re.match(rb"Subject: (crash-\d+)$", value) if rtype == "N" else None
        if m:
            return m.group(1).decode()
    raise AssertionError(f"{path}: no Subject")


def test_kill_daemons_during_submission(make_instance):
    inst = make_instance()
    inst.write_master_cf(MASTER_CF)
    inst.start()
    accepted, lock = [], threading.Lock()
    done = threading.Event()
    kills = {"cleanup": 0, "pickup": 0, "master": 0}

    def submitter(first):
        for n in range(first, MESSAGES, SUBMITTERS):
            subject = f"crash-{n}"
            r = inst.run("sendmail", "-f", "sender@example.com", "rcpt@example.net",
                         input=f"Subject: {subject}\n\nbody {n}\n", timeout=60)
            if r.returncode == 0:
                with lock:
                    accepted.append(subject)

    def killer():
        rnd = random.Random(4)
        while not done.wait(rnd.uniform(0.05, 0.4)):
            victim = rnd.choice(["cleanup", "cleanup", "pickup", "pickup", "master"])
            pids = service_pids(inst, {victim})
            if not pids:
                continue
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            kills[victim] += 1
            if victim == "master":
                # Its children notice the master is gone and exit; start again.
                deadline = time.monotonic() + 10
                while inst.master_pid() and postern._pid_alive(inst.master_pid()):
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
                inst.run("postfix", "start", check=True)

    threads = [threading.Thread(target=submitter, args=(i,)) for i in range(SUBMITTERS)]
    kill_thread = threading.Thread(target=killer)
    kill_thread.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    kill_thread.join()
    assert sum(kills.values()) >= 5, kills

    if inst.run("postfix", "status").returncode != 0:
        inst.run("postfix", "start", check=True)
    inst.run("postkick", "public", "pickup", "W")
    deadline = time.monotonic() + 60
    maildrop = os.path.join(inst.queue_dir, "maildrop")
    while os.listdir(maildrop):
        assert time.monotonic() < deadline, f"maildrop not drained: {os.listdir(maildrop)[:5]}"
        time.sleep(0.1)

    found = {}
    for qid in inst.queue_ids("incoming"):
        subject = queue_file_subject(os.path.join(inst.queue_dir, "incoming", qid))
        found.setdefault(subject, []).append(qid)
    assert len(accepted) >= MESSAGES // 2, f"only {len(accepted)} submissions succeeded; kills {kills}"
    missing = [s for s in accepted if s not in found]
    duplicated = {s: q for s, q in found.items() if len(q) > 1}
    unknown = [s for s in found if s not in accepted]
    assert missing == [], f"accepted but not queued: {missing[:10]}"
    assert duplicated == {}, f"queued more than once: {list(duplicated.items())[:10]}"
    # A message whose sendmail failed may still have been queued (the
    # failure came after postdrop's fsync); it must still be there once.
    assert all(len(q) == 1 for q in found.values())
    print(f"accepted {len(accepted)}, queued {len(found)}, unknown-but-queued {len(unknown)}, kills {kills}")
