"""End-to-end tests of local submission: sendmail -> postdrop -> maildrop ->
pickup -> cleanup (queue.md sections 1, 2 and 9.1; acceptance checks 1-3,
5, 44-46).

Two kinds of test:
- without a running master: sendmail and postdrop write a file into
  maildrop/, whose records (rec_type.h) the test decodes itself;
- with a running instance: pickup and cleanup log their lines and the
  message waits in incoming/ (these instances run without the queue
  manager, see the instance fixture below), where `postcat -q` shows it.
Modes that hand over to another program (-bp, -q, -bs, -bi, -bd) are
checked against stand-in programs that print how they were called.
"""

import os
import pwd
import re
import stat
import time

import pytest

import postern

QID = r"[0-9A-F]{6,}"


@pytest.fixture
def instance(instance):
    """The conftest instance without the qmgr service: queued mail stays in
    incoming/ for the tests to inspect (delivery is tested in test_qmgr.py)."""
    instance.write_master_cf(re.sub(r"^qmgr .*\n", "", instance.read_master_cf(), flags=re.M))
    return instance


def _account(inst):
    """(login name, uid) of the account the instance's programs run as."""
    pw = inst.user or pwd.getpwuid(os.geteuid())
    return pw.pw_name, pw.pw_uid


def _records(path):
    """The records of a maildrop file as (type letter, bytes) pairs."""
    with open(path, "rb") as f:
        data = f.read()
    out, i = [], 0
    while i < len(data):
        rtype = chr(data[i])
        i += 1
        length, shift = 0, 0
        while True:
            byte = data[i]
            i += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        out.append((rtype, data[i:i + length]))
        i += length
    return out


def _maildrop(inst):
    """Paths of the files in maildrop/."""
    d = os.path.join(inst.queue_dir, "maildrop")
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d))


def _prepare(inst):
    """postfix check: the queue directories exist, no master runs."""
    inst.postfix("check", check=True)


def _only_drop(inst):
    """The one maildrop file's records."""
    files = _maildrop(inst)
    assert len(files) == 1, files
    return _records(files[0])


def _queued(inst, result, mark):
    """After a submission: wait for pickup's and cleanup's log lines and
    return (queue ID, pickup line, postcat -q output)."""
    assert result.returncode == 0, result
    m = inst.wait_log(rf"postfix/pickup\[\d+\]: ({QID}): uid=\d+ from=<[^>]*>$", since=mark)
    qid = m.group(1)
    inst.wait_log(rf"postfix/cleanup\[\d+\]: {qid}: message-id=", since=mark)
    # cleanup logs message-id before its reply; pickup removes the
    # maildrop file after it, and the queue file is complete (0700).
    path = os.path.join(inst.queue_dir, "incoming", qid)
    deadline = time.monotonic() + 10
    while _maildrop(inst) or not (os.path.exists(path) and os.stat(path).st_mode & stat.S_IXUSR):
        assert time.monotonic() < deadline, (_maildrop(inst), inst.log_tail())
        time.sleep(0.05)
    cat = inst.run("postcat", "-q", qid, check=True)
    return qid, m.group(0), cat.stdout


def _contents(postcat_out):
    """The MESSAGE CONTENTS part of postcat output, as lines."""
    m = re.search(r"\*\*\* MESSAGE CONTENTS [^\n]*\*\*\*\n(.*?)\*\*\* HEADER EXTRACTED",
                  postcat_out, re.S)
    assert m, postcat_out
    return m.group(1).splitlines()


def _recipients(postcat_out):
    """Every `recipient: ` value in postcat output."""
    return re.findall(r"^recipient: (.*)$", postcat_out, re.M)


# --- without a master: what sendmail and postdrop put into maildrop/ -------

def test_submission_writes_complete_maildrop_file(instance):
    _prepare(instance)
    user, _ = _account(instance)
    r = instance.run("sendmail", "-F", "Joe User", "alice", "Bob <bob@x.test>",
                     input="Subject: t\r\n\r\nhi\r\n")
    assert r.returncode == 0, r
    files = _maildrop(instance)
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o700
    recs = _records(files[0])
    assert [t for t, _ in recs] == list("TFSRRMNNNXE")
    assert recs[1] == ("F", b"Joe User")
    assert recs[2] == ("S", user.encode())
    assert recs[3:5] == [("R", b"alice"), ("R", b"bob@x.test")]
    assert [d for t, d in recs if t == "N"] == [b"Subject: t", b"", b"hi"]  # CRLF -> LF
    assert re.fullmatch(rb"\d+ \d+", recs[0][1])


def test_dot_ends_input_unless_i(instance):
    """Check 46 at the maildrop stage: a lone "." ends input without -i."""
    _prepare(instance)
    instance.run("sendmail", "alice", input="a\n.\nb\n", check=True)
    assert [d for t, d in _only_drop(instance) if t == "N"] == [b"a"]
    os.unlink(_maildrop(instance)[0])
    instance.run("sendmail", "-oi", "alice", input="a\n.\nb\n", check=True)
    assert [d for t, d in _only_drop(instance) if t == "N"] == [b"a", b".", b"b"]


def test_long_lines_become_continued_records(instance):
    _prepare(instance)
    instance.update_main_cf({"line_length_limit": "1000"})
    instance.run("sendmail", "-i", "alice", input="x" * 2500 + "\nshort\n", check=True)
    content = [(t, d) for t, d in _only_drop(instance) if t in "NL"]
    assert content == [("L", b"x" * 1000), ("L", b"x" * 1000), ("N", b"x" * 500),
                       ("N", b"short")]


def test_from_line_dropped_and_options_recorded(instance):
    _prepare(instance)
    instance.run("sendmail", "-f", "Sender <s@x.test>", "-N", "success,delay",
                 "-R", "hdrs", "-V", "env1", "-B", "8BITMIME", "alice",
                 input="From s@x.test Sat Nov 21 10:00:00 2026\nSubject: x\n", check=True)
    recs = _only_drop(instance)
    assert ("S", b"s@x.test") in recs
    attrs = [d for t, d in recs if t == "A"]
    assert b"envelope_id=env1" in attrs and b"dsn_ret=2" in attrs
    assert b"encoding=8bitmime" in attrs
    i = recs.index(("R", b"alice"))
    assert recs[i - 1] == ("n", b"10")  # success | delay, Postfix's bits
    assert [d for t, d in recs if t == "N"] == [b"Subject: x"]


def test_t_puts_header_recipients_in_extracted_segment(instance):
    _prepare(instance)
    msg = ("To: \"A\" <a@x.test>, grp: g1@x.test, g2@x.test;\n"
           "Cc: undisclosed-recipients:;\nBcc: c@x.test,\n d@x.test\n\nTo: body@x.test\n")
    instance.run("sendmail", "-t", "b@x.test", input=msg, check=True)
    recs = _only_drop(instance)
    x = recs.index(("X", b""))
    assert [d for t, d in recs[:x] if t == "R"] == [b"b@x.test"]
    assert [d for t, d in recs[x:] if t == "R"] == [
        b"a@x.test", b"g1@x.test", b"g2@x.test", b"c@x.test", b"d@x.test"]


def test_t_uses_resent_headers_when_present(instance):
    _prepare(instance)
    instance.run("sendmail", "-t", input="Resent-To: r@x.test\nTo: t@x.test\n\nb\n", check=True)
    assert [d for t, d in _only_drop(instance) if t == "R"] == [b"r@x.test"]


def test_t_without_recipients_fails_and_leaves_nothing(instance):
    """Check 45, second half."""
    _prepare(instance)
    user, uid = _account(instance)
    r = instance.run("sendmail", "-t", input="Subject: none\n\nbody\n")
    assert r.returncode == 64, r
    assert f"sendmail: fatal: {user}({uid}): No recipient addresses found in message header" \
        in r.stderr
    assert _maildrop(instance) == []
    assert "postfix/sendmail[" in instance.log()


def test_no_recipients_without_t(instance):
    _prepare(instance)
    user, uid = _account(instance)
    r = instance.run("sendmail", input="x\n")
    assert r.returncode == 64
    assert r.stderr_lines == [f"sendmail: fatal: {user}({uid}): Recipient addresses must be "
                              "specified on the command line or via the -t option"]
    assert re.search(r"postfix/sendmail\[\d+\]: fatal: .*Recipient addresses must be specified",
                     instance.log())
    assert _maildrop(instance) == []


@pytest.mark.parametrize("args, status, text", [
    (["-qSfoo"], 64, "sendmail: fatal: -qS is not implemented"),  # check 44
    (["-q15m"], 0, None),
    (["-qR"], 64, "sendmail: fatal: specify: -qRsitename"),
    (["-qI"], 64, "sendmail: fatal: specify: -qIqueueid"),
    (["-bv", "-t", "alice"], 64, "sendmail: fatal: -t option cannot be used with -bv"),
    (["-bz"], 64, "sendmail: fatal: unsupported: -bz"),
    (["-B", "9bit", "a"], 64, "sendmail: fatal: -B option needs 8BITMIME or 7BIT"),
])
def test_option_errors(instance, args, status, text):
    _prepare(instance)
    r = instance.run("sendmail", *args, input="")
    assert r.returncode == status, r
    if text is None:
        assert r.stderr == ""
    else:
        assert text in r.stderr_lines
    assert _maildrop(instance) == []


def test_ignored_options_are_accepted(instance):
    _prepare(instance)
    r = instance.run("sendmail", "-m", "-n", "-U", "-Am", "-G", "-h", "5", "-L", "tag",
                     "-o7", "-om", "-bm", "alice", input="x\n")
    assert r.returncode == 0, r
    assert [d for t, d in _only_drop(instance) if t == "R"] == [b"alice"]


def test_verify_submits_probe_with_trace_flag(instance):
    _prepare(instance)
    user, _ = _account(instance)
    r = instance.run("sendmail", "-bv", "alice", check=True)
    assert r.stdout == f"Mail Delivery Status Report will be mailed to <{user}>.\n"
    recs = _only_drop(instance)
    assert ("A", b"trace_flags=512") in recs
    assert b"Subject: probe" in [d for t, d in recs if t == "N"]


def test_submit_users_denied(instance):
    _prepare(instance)
    user, uid = _account(instance)
    instance.update_main_cf({"authorized_submit_users": f"!{user}, static:anyone"})
    r = instance.run("sendmail", "alice", input="x\n")
    assert r.returncode == 77
    assert f"sendmail: fatal: User {user}({uid}) is not allowed to submit mail" in r.stderr_lines
    assert _maildrop(instance) == []


def test_postdrop_rejects_unexpected_records(instance):
    _prepare(instance)
    _, uid = _account(instance)
    # FROM, RCPT, MESG, then a DONE record inside the content: not allowed.
    stream = b"S\x01xR\x01aM\x00D\x01aX\x00E\x00"
    r = instance.run("postdrop", "-r", input=stream)
    assert r.returncode != 0
    assert f"postdrop: fatal: uid={uid}: unexpected record type: 68" in r.stderr_lines
    assert _maildrop(instance) == []
    # A stream that stops before END leaves nothing either.
    r = instance.run("postdrop", "-r", input=b"S\x01xR\x01aM\x00N\x01a")
    assert r.returncode != 0
    assert _maildrop(instance) == []
    # Unknown named attributes are dropped with a warning.
    r = instance.run("postdrop", "-r", input=b"A\x0flog_helo_name=hS\x01xR\x01aM\x00X\x00E\x00")
    assert r.returncode == 0, r
    assert f"postdrop: warning: uid={uid}: ignoring attribute record: log_helo_name=h" \
        in r.stderr_lines
    assert [t for t, _ in _only_drop(instance)] == list("TSRMXE")


# --- handing over to other programs ---------------------------------------

def _stand_ins(inst):
    """A directory of scripts that print their name, arguments and
    MAIL_CONFIG; used as command_directory and daemon_directory."""
    d = os.path.join(inst.root, "standin")
    os.makedirs(d)
    inst._own(d)
    for name in ("postqueue", "postfix", "newaliases", "smtpd"):
        inst.write_file(os.path.join(d, name),
                        f"#!/bin/sh\nprintf %s {name}\nfor a; do printf ' %s' \"$a\"; done\n"
                        "printf ' config=%s\\n' \"$MAIL_CONFIG\"\n", mode=0o755)
    inst.update_main_cf({"command_directory": d, "daemon_directory": d})
    return d


@pytest.mark.parametrize("cmd, args, want", [
    ("sendmail", ["-bp"], "postqueue -p"),
    ("mailq", [], "postqueue -p"),
    ("sendmail", ["-q"], "postqueue -f"),
    ("sendmail", ["-qRexample.com"], "postqueue -s example.com"),
    ("sendmail", ["-qIABC123"], "postqueue -i ABC123"),
    ("sendmail", ["-bi"], "newaliases"),
    ("sendmail", ["-I"], "newaliases"),
    ("sendmail", ["-bd"], "postfix start"),
    ("sendmail", ["-bl"], "postfix start"),
    ("sendmail", ["-bs"], "smtpd -S"),
])
def test_modes_run_the_right_program(instance, cmd, args, want):
    _stand_ins(instance)
    r = instance.run(cmd, *args, check=True)
    assert r.stdout == f"{want} config={instance.path}\n"


def test_mailq_with_recipient_is_an_error(instance):
    _stand_ins(instance)
    r = instance.run("sendmail", "-bp", "alice")
    assert r.returncode == 64
    assert r.stderr_lines == ["sendmail: fatal: display queue mode requires no recipient"]


def test_missing_postqueue_is_named(instance):
    d = os.path.join(instance.root, "empty")
    os.makedirs(d)
    instance.update_main_cf({"command_directory": d})
    r = instance.run("mailq")
    assert r.returncode == 69
    assert r.stderr_lines == [f"sendmail: fatal: execv {d}/postqueue: No such file or directory"]


# --- through pickup and cleanup (a running instance) ----------------------

def test_submission_log_lines(instance):
    """Check 1 (as far as cleanup): pickup then cleanup log lines."""
    user, uid = _account(instance)
    instance.start()
    mark = instance.log_mark()
    r = instance.run("sendmail", "alice", input="Subject: t\n\nhi\n")
    qid, line, _ = _queued(instance, r, mark)
    assert line.endswith(f"{qid}: uid={uid} from=<{user}>")
    m = instance.wait_log(rf"postfix/cleanup\[\d+\]: {qid}: message-id=<(\d{{14}})\.{qid}@"
                          r"mail\.example\.com>$", since=mark)
    log = instance.log()[mark:]
    assert log.index(line) < log.index(m.group(0))


def test_queued_copy_headers(instance):
    """Check 2 in the queued copy: Received, Date, Message-Id, From; no To."""
    user, uid = _account(instance)
    instance.start()
    mark = instance.log_mark()
    r = instance.run("sendmail", "-F", "", "alice", input="Subject: t\n\nhi\n")
    qid, _, out = _queued(instance, r, mark)
    lines = _contents(out)
    assert lines[0] == f"Received: by mail.example.com (Postern, from userid {uid})"
    assert re.fullmatch(rf"\tid {qid}; (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ \d]\d "
                        r"[A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\S+\)", lines[1]), lines[1]
    headers = lines[:lines.index("")]
    assert f"From: {user}@mail.example.com" in headers
    assert any(h.startswith("Date: ") for h in headers)
    assert any(re.fullmatch(rf"Message-Id: <\d{{14}}\.{qid}@mail\.example\.com>", h)
               for h in headers)
    assert not any(h.lower().startswith("to:") for h in headers)
    assert lines[-1] == "hi"
    assert re.search(rf"^sender: {user}@mail\.example\.com$", out, re.M)
    assert _recipients(out) == ["alice@mail.example.com"]


def test_null_sender_bcc_and_return_path(instance):
    """Check 3 in the queued copy: null sender, no Bcc:, no Return-Path:."""
    instance.start()
    mark = instance.log_mark()
    r = instance.run("sendmail", "-f", "<>", "alice",
                     input="Return-Path: <x@y>\nBcc: z@y\nSubject: t\n\nhi\n")
    qid, line, out = _queued(instance, r, mark)
    assert line.endswith("from=<>")
    assert re.search(r"^sender: $", out, re.M)
    headers = _contents(out)
    assert not any(h.lower().startswith(("bcc:", "return-path:")) for h in headers)
    assert _recipients(out) == ["alice@mail.example.com"]


def test_dot_rule_in_queue_file(instance):
    """Check 46 in the queued copy."""
    instance.start()
    mark = instance.log_mark()
    r = instance.run("sendmail", "alice", input="Subject: s\n\na\n.\nb\n")
    _, _, out = _queued(instance, r, mark)
    assert _contents(out)[-1] == "a"
    mark = instance.log_mark()
    r = instance.run("sendmail", "-i", "alice", input="Subject: s\n\na\n.\nb\n")
    _, _, out = _queued(instance, r, mark)
    assert _contents(out)[-3:] == ["a", ".", "b"]


def test_t_adds_header_recipients(instance):
    """Check 45: sendmail -t b@x.test with To: a@x.test -> 2 recipients."""
    instance.start()
    mark = instance.log_mark()
    r = instance.run("sendmail", "-t", "b@x.test", input="To: a@x.test\nSubject: s\n\nx\n")
    _, _, out = _queued(instance, r, mark)
    assert sorted(_recipients(out)) == ["a@x.test", "b@x.test"]


@pytest.mark.parametrize("settings, rcpt, want", [
    ({}, "bob@host", "bob@host"),
    ({}, "bob", "bob@mail.example.com"),
    ({"append_dot_mydomain": "yes"}, "bob@host", "bob@host.example.com"),
    ({"myorigin": "$mydomain"}, "bob", "bob@example.com"),
])
def test_recipient_completion(instance, settings, rcpt, want):
    """Check 5."""
    if settings:
        instance.update_main_cf(settings)
    instance.start()
    mark = instance.log_mark()
    r = instance.run("sendmail", rcpt, input="Subject: s\n\nx\n")
    _, _, out = _queued(instance, r, mark)
    assert _recipients(out) == [want]


def test_mail_dropped_while_down_is_picked_up_at_start(instance):
    _prepare(instance)
    user, uid = _account(instance)
    r = instance.run("sendmail", "alice", input="Subject: early\n\nx\n")
    assert r.returncode == 0, r
    assert len(_maildrop(instance)) == 1
    # The stock master.cf (pickup wakeup 60 s): the master's first wakeup
    # goes out at start, as Postfix's does.
    mark = instance.log_mark()
    instance.start()
    _, line, out = _queued(instance, r, mark)
    assert line.endswith(f"uid={uid} from=<{user}>")
    assert "Subject: early" in _contents(out)


def test_corrupt_maildrop_file_moves_to_corrupt(instance):
    _prepare(instance)
    _, uid = _account(instance)
    # A complete-looking file whose content holds an RCPT record.
    bad = os.path.join(instance.queue_dir, "maildrop", "ABCDEF123")
    instance.write_file(bad, b"T\x031 0S\x01xR\x01aM\x00R\x01bX\x00E\x00", mode=0o700)
    mark = instance.log_mark()
    instance.start()
    instance.wait_log(r'postfix/pickup\[\d+\]: warning: saving corrupt file '
                      r'"maildrop/ABCDEF123(?:_\w+)?" as "corrupt/ABCDEF123"', since=mark)
    assert os.path.exists(os.path.join(instance.queue_dir, "corrupt", "ABCDEF123"))
    assert not os.path.exists(bad)
    assert f"uid={uid}: unexpected or malformed record type 82" in instance.log()[mark:]
