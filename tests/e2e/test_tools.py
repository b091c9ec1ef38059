"""End-to-end tests of the small tools: postlog, postkick, postlock and
`postfix flush` (queue.md 9, config.md 5 and 9). None needs a running
master: postkick is pointed at a FIFO the test creates, `postfix flush`
at a stand-in postqueue.
"""

import os
import re
import stat

import postern


def _prepare(inst):
    inst.postfix("check", check=True)


# --- postlog ----------------------------------------------------------------

def test_postlog_arguments(instance):
    r = instance.run("postlog", "hello", "world", check=True)
    assert r.stdout == "" and r.stderr == ""
    assert re.search(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d mail postfix/postlog\[\d+\]: hello world$",
                     instance.log(), re.M)


def test_postlog_priority_tag_and_stdin(instance):
    instance.run("postlog", "-p", "warn", "-t", "mytag", "-i", "careful", check=True)
    instance.run("postlog", "-p", "error", input="line one\n\nline three\n", check=True)
    lines = postern.normalise(instance.log()).splitlines()
    assert "DATE mail mytag[PID]: warning: careful" in lines
    i = lines.index("DATE mail postfix/postlog[PID]: error: line one")
    assert lines[i + 1:i + 3] == ["DATE mail postfix/postlog[PID]: error: ",
                                  "DATE mail postfix/postlog[PID]: error: line three"]


def test_postlog_bad_priority(instance):
    r = instance.run("postlog", "-p", "loud", "x")
    assert r.returncode == 1
    assert 'postfix/postlog' in instance.log()
    assert 'fatal: bad severity: "loud"' in instance.log()
    assert ": x\n" not in instance.log()


# --- postkick ---------------------------------------------------------------

def test_postkick_writes_request_to_fifo(instance):
    _prepare(instance)
    fifo = os.path.join(instance.queue_dir, "public", "kicktest")
    os.mkfifo(fifo, 0o622)
    instance._own(fifo)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        r = instance.run("postkick", "public", "kicktest", "IA", check=True)
        assert r.stderr == ""
        assert os.read(fd, 100) == b"IA"
    finally:
        os.close(fd)


def test_postkick_unreachable_service(instance):
    _prepare(instance)
    r = instance.run("postkick", "public", "nothere", "W")
    assert r.returncode == 1
    assert ("postkick: warning: Cannot contact class public service nothere - "
            "perhaps the mail system is down") in r.stderr_lines


def test_postkick_usage(instance):
    r = instance.run("postkick", "public", "pickup")
    assert r.returncode == 1
    assert r.stderr_lines == ["postkick: fatal: usage: postkick [-c config_dir] [-v] "
                              "class service request"]


# --- postlock ---------------------------------------------------------------

def test_postlock_runs_command_under_dotlock(instance):
    mbox = os.path.join(instance.root, "mbox")
    r = instance.run("postlock", mbox, "sh", "-c", f"test -e {mbox}.lock && echo locked; exit 3")
    assert r.returncode == 3, r
    assert r.stdout == "locked\n"
    assert os.path.exists(mbox) and not os.path.exists(mbox + ".lock")
    assert stat.S_IMODE(os.stat(mbox).st_mode) == 0o600


def test_postlock_flock_style_holds_lock(instance):
    mbox = instance.write_file(os.path.join(instance.root, "mbox"), b"")
    r = instance.run("postlock", "-l", "flock", mbox, "flock", "-n", mbox, "true")
    assert r.returncode == 1  # flock(1) cannot get the lock postlock holds
    r = instance.run("postlock", "-l", "flock", mbox, "true")
    assert r.returncode == 0
    assert not os.path.exists(mbox + ".lock")


def test_postlock_existing_dotlock_is_temporary_failure(instance):
    instance.update_main_cf({"deliver_lock_attempts": "1"})
    mbox = instance.write_file(os.path.join(instance.root, "mbox"), b"")
    instance.write_file(mbox + ".lock", b"")
    r = instance.run("postlock", mbox, "true")
    assert r.returncode == 75
    assert r.stderr_lines[0].startswith(f"postlock: fatal: open file {mbox}: ")
    assert os.path.exists(mbox + ".lock")  # someone else's lock stays


def test_postlock_errors(instance):
    mbox = os.path.join(instance.root, "mbox")
    r = instance.run("postlock", "-l", "bogus", mbox, "true")
    assert r.returncode == 75
    assert r.stderr_lines == ['postlock: fatal: unknown mailbox_delivery_lock value "bogus" in "bogus"']
    r = instance.run("postlock", os.path.join(instance.root, "nodir", "mbox"), "true")
    assert r.returncode == 75
    r = instance.run("postlock", mbox, "/nonexistent/cmd")
    assert r.returncode == 1
    assert r.stderr_lines == ["postlock: fatal: execvp /nonexistent/cmd: No such file or directory"]
    assert not os.path.exists(mbox + ".lock")
    r = instance.run("postlock", mbox)
    assert r.returncode == 75
    assert r.stderr_lines == ["postlock: fatal: usage: postlock [-c config_dir] [-l lock_style] "
                              "[-v] folder command..."]


# --- postfix flush ----------------------------------------------------------

def test_postfix_flush_runs_postqueue(instance):
    d = os.path.join(instance.root, "standin")
    os.makedirs(d)
    instance._own(d)
    instance.write_file(os.path.join(d, "postqueue"),
                        "#!/bin/sh\necho \"postqueue $1 config=$MAIL_CONFIG\"\nexit 4\n", mode=0o755)
    instance.update_main_cf({"command_directory": d})
    r = instance.postfix("flush", tty=False)
    assert r.returncode == 4
    assert r.stdout == f"postqueue -f config={instance.path}\n"
