"""End-to-end tests of the pipe(8) delivery agent (delivery.md 4 and
acceptance checks 20-22): master.cf pipe services run a recording shell
script; transport_maps route each test domain to one of them.

The script (record.sh) takes a mode as its first argument (ok, out,
tempfail, nouser, deny, sleep), writes its other arguments (NUL-separated)
and its standard input to a new pair of files under out/, then exits as
the mode says. The tests read those files (the exact bytes the command
received) and the delivery log lines.

Rootless instances run the command as the instance's user (user= names
that account). The system-mode test checks that a root-started pipe
switches to user= and refuses mail_owner.
"""

import os
import pwd
import re
import subprocess

import pytest

import postern

QID = r"[0-9A-F]{6,}"
SENDER = "alice@example.org"

SCRIPT = """\
#!/bin/sh
mode=$1
f=$(mktemp "{out}/run.XXXXXX")
for a in "$@"; do printf '%s\\0' "$a"; done > "$f.args"
cat > "$f.in"
case $mode in
ok) exit 0;;
out) echo "queued fine"; exit 0;;
tempfail) echo "spool full"; exit 75;;
nouser) exit 67;;
deny) echo "5.7.1 go away"; exit 1;;
sleep) exec sleep 30;;
esac
exit 0
"""

TRANSPORT = """\
example.net dpipe:
plain.test plain:
example.org plain:
fancy.test fancy:
out.test xpipe:
tempfail.test fail:tempfail
nouser.test fail:nouser
deny.test fail:deny
multi.test multi:
dmulti.test dmulti:
small.test small:
slow.test slow:
null.test nullpipe:
sh.test shpipe:
"""


def master_cf(user, script, out):
    """The pipe services of the tests (master.cf lines)."""
    return f"""\
plain unix - n n - - pipe user={user} argv={script} ok ${{sender}} ${{recipient}}
dpipe unix - n n - - pipe flags=DRhu user={user} argv={script} ok ${{sender}} ${{recipient}}
fancy unix - n n - - pipe flags=FOB.> eol=\\r\\n user={user} argv={script} ok ${{original_recipient}}
xpipe unix - n n - - pipe flags=X user={user} argv={script} out ${{recipient}}
fail unix - n n - - pipe user={user} argv={script} ${{nexthop}} ${{recipient}}
multi unix - n n - - pipe user={user} argv={script} ok ${{sender}} ${{recipient}}
dmulti unix - n n - - pipe flags=D user={user} argv={script} ok ${{recipient}}
small unix - n n - - pipe size=100 user={user} argv={script} ok ${{recipient}}
slow unix - n n - - pipe user={user} argv={script} sleep ${{recipient}}
nullpipe unix - n n - - pipe null_sender= user={user} argv={script} ok ${{sender}} ${{recipient}}
shpipe unix - n n - - pipe flags=R user={user}
  argv=/bin/sh -c {{ cat > {out}/sh.in; printf %s "$$0" > {out}/sh.arg }} ${{recipient}}
"""


class Pipes:
    """The instance, its recording script and what the script recorded."""

    def __init__(self, inst):
        self.inst = inst
        self.user = inst.user.pw_name if inst.user else pwd.getpwuid(os.getuid()).pw_name
        self.out = os.path.join(inst.root, "out")
        os.makedirs(self.out)
        inst._own(self.out)
        self.script = inst.write_file(os.path.join(inst.root, "record.sh"),
                                      SCRIPT.format(out=self.out), mode=0o755)

    def runs(self):
        """[(args, stdin bytes)] of every finished run of record.sh."""
        found = []
        for name in sorted(os.listdir(self.out)):
            if not name.endswith(".in") or not name.startswith("run."):
                continue
            base = os.path.join(self.out, name[:-len(".in")])
            with open(base + ".args", "rb") as f:
                args = [a.decode() for a in f.read().split(b"\0")[:-1]]
            with open(base + ".in", "rb") as f:
                found.append((args, f.read()))
        return found

    def runs_for(self, rcpt):
        """The runs whose arguments name RCPT."""
        return [r for r in self.runs() if rcpt in r[0]]


def make_pipes(inst, extra_main=None):
    pipes = Pipes(inst)
    inst.write_master_cf(inst.default_master_cf() + master_cf(pipes.user, pipes.script, pipes.out))
    inst.write_file("transport", TRANSPORT)
    inst.settings.update({
        "transport_maps": f"texthash:{inst.path}/transport",
        "default_transport": "error:5.1.2 unrouted test address",
        "dpipe_destination_recipient_limit": "1",
        "fancy_destination_recipient_limit": "1",
        "multi_destination_recipient_limit": "2",
        "slow_time_limit": "1s",
        "minimal_backoff_time": "300s",
        "maximal_backoff_time": "300s",
    })
    inst.settings.update(extra_main or {})
    inst.write_main_cf("")
    return pipes


@pytest.fixture
def pipes(make_instance):
    inst = make_instance()
    p = make_pipes(inst)
    inst.start()
    return p


def submit(inst, recipients, sender=SENDER, headers="", body="pipe body\n"):
    """Queue one message through cleanup; return its queue ID."""
    content = f"From: <{sender}>\nSubject: pipe test\n{headers}\n{body}"
    res = inst.cleanup_submit(sender, recipients, content)
    assert res["status"] == 0, res
    return res["queue_id"]


def delivery_line(inst, qid, rcpt, status, timeout=20):
    """Wait for the delivery log line of RCPT; return the match."""
    return inst.wait_log(rf"^.*postfix/(?P<prog>[\w-]+)\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, "
                         rf"(?:orig_to=<[^>]*>, )?relay=(?P<relay>\S+), delay=[0-9.]+, "
                         rf"delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, "
                         rf"dsn=(?P<dsn>\d\.\d+\.\d+), status={status} \((?P<text>.*)\)$",
                         timeout=timeout)


def result(inst, qid, rcpt, status):
    m = delivery_line(inst, qid, rcpt, status)
    return (m["prog"], m["relay"], m["dsn"], m["text"])


def test_flags_prepend_headers_and_fold_arguments(pipes):
    """Acceptance 20: D R h u with limit 1; plain has no flags, so the
    difference between what the two commands read is the prepended lines."""
    inst = pipes.inst
    qid = submit(inst, ["x@plain.test", "Bob@Example.NET"])
    assert result(inst, qid, "x@plain.test", "sent") == \
        ("pipe", "plain", "2.0.0", "delivered via plain service")
    assert result(inst, qid, "Bob@Example.NET", "sent") == \
        ("pipe", "dpipe", "2.0.0", "delivered via dpipe service")
    inst.wait_log(rf"qmgr\[\d+\]: {qid}: removed$")
    [(plain_args, plain_in)] = pipes.runs_for("x@plain.test")
    [(d_args, d_in)] = pipes.runs_for("bob@example.net")
    assert plain_args == ["ok", SENDER, "x@plain.test"]
    assert d_args == ["ok", SENDER, "bob@example.net"]
    assert b"\nSubject: pipe test\n" in plain_in and plain_in.endswith(b"\n\npipe body\n")
    assert not plain_in.startswith((b"From ", b"Return-Path:", b"Delivered-To:"))
    assert d_in == b"Return-Path: <alice@example.org>\nDelivered-To: bob@example.net\n" + plain_in


def test_from_line_quoting_blank_and_eol(pipes):
    """F O B . > and eol=\\r\\n, against the unflagged copy."""
    inst = pipes.inst
    qid = submit(inst, ["y@plain.test", "z@fancy.test"],
                 body="From the start\n.dot line\nnormal\n")
    result(inst, qid, "y@plain.test", "sent")
    assert result(inst, qid, "z@fancy.test", "sent")[1:] == \
        ("fancy", "2.0.0", "delivered via fancy service")
    [(_, plain_in)] = pipes.runs_for("y@plain.test")
    [(f_args, f_in)] = pipes.runs_for("z@fancy.test")
    assert f_args == ["ok", "z@fancy.test"]
    lines = []
    for line in plain_in[:-1].split(b"\n"):
        if line.startswith(b"From "):
            line = b">" + line
        elif line.startswith(b"."):
            line = b"." + line
        lines.append(line + b"\r\n")
    from_line, rest = f_in.split(b"\r\n", 1)
    assert re.fullmatch(rb"From alice@example\.org  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}", from_line), \
        from_line
    assert rest == b"X-Original-To: z@fancy.test\r\n" + b"".join(lines) + b"\r\n"
    assert b"\r\n>From the start\r\n..dot line\r\nnormal\r\n\r\n" in f_in


def test_recipients_batched_per_limit(pipes):
    """Acceptance 22 and 4.3: one run with every recipient as its own
    argument; multi_destination_recipient_limit = 2 -> runs of 2 and 1."""
    inst = pipes.inst
    plain = ["p1@plain.test", "p2@plain.test", "p3@plain.test"]
    multi = ["m1@multi.test", "m2@multi.test", "m3@multi.test"]
    qid = submit(inst, plain + multi)
    for rcpt in plain + multi:
        relay = result(inst, qid, rcpt, "sent")[1]
        assert relay == ("plain" if "plain" in rcpt else "multi")
    inst.wait_log(rf"qmgr\[\d+\]: {qid}: removed$")
    [(args, _)] = pipes.runs_for("p1@plain.test")
    assert args[:2] == ["ok", SENDER] and sorted(args[2:]) == plain
    multi_runs = [args for args, _ in pipes.runs() if any(a.endswith("@multi.test") for a in args)]
    assert sorted(len(a) - 2 for a in multi_runs) == [1, 2]
    assert sorted(a for args in multi_runs for a in args[2:]) == multi


def test_null_sender(pipes):
    """Acceptance 22: <> is MAILER-DAEMON, or empty with null_sender=."""
    inst = pipes.inst
    qid = submit(inst, ["n@null.test", "m@plain.test"], sender="")
    result(inst, qid, "n@null.test", "sent")
    result(inst, qid, "m@plain.test", "sent")
    assert pipes.runs_for("n@null.test")[0][0] == ["ok", "", "n@null.test"]
    assert pipes.runs_for("m@plain.test")[0][0] == ["ok", "MAILER-DAEMON", "m@plain.test"]


def test_output_on_success_and_braced_argument(pipes):
    inst = pipes.inst
    qid = submit(inst, ["o@out.test", "s@sh.test"])
    assert result(inst, qid, "o@out.test", "sent")[1:] == \
        ("xpipe", "2.0.0", "delivered via xpipe service (queued fine)")
    assert result(inst, qid, "s@sh.test", "sent")[1:] == \
        ("shpipe", "2.0.0", "delivered via shpipe service")
    with open(os.path.join(pipes.out, "sh.arg")) as f:
        assert f.read() == "s@sh.test"
    with open(os.path.join(pipes.out, "sh.in"), "rb") as f:
        sh_in = f.read()
    assert sh_in.startswith(b"Return-Path: <alice@example.org>\n"), sh_in
    assert sh_in.endswith(b"\n\npipe body\n")


def test_exit_75_defers_with_output(pipes):
    inst = pipes.inst
    qid = submit(inst, ["t@tempfail.test"])
    assert result(inst, qid, "t@tempfail.test", "deferred") == \
        ("pipe", "fail", "4.3.0", "temporary failure. Command output: spool full")
    assert inst.wait_queued(1, queue="deferred") == [qid]


def test_exit_67_bounces_with_notice(pipes):
    inst = pipes.inst
    qid = submit(inst, ["u@nouser.test"])
    assert result(inst, qid, "u@nouser.test", "bounced") == ("pipe", "fail", "5.1.1", "user unknown")
    notice = inst.wait_log(rf"{qid}: sender non-delivery notification: ({QID})$").group(1)
    result(inst, notice, SENDER, "sent")
    [(args, text)] = pipes.runs_for(SENDER)
    assert args == ["ok", "MAILER-DAEMON", SENDER]
    assert b"Final-Recipient: rfc822; u@nouser.test" in text
    assert b"Status: 5.1.1" in text
    assert b"Diagnostic-Code: x-unix; user unknown" in text


def test_enhanced_status_output_decides(pipes):
    inst = pipes.inst
    qid = submit(inst, ["d@deny.test"])
    assert result(inst, qid, "d@deny.test", "bounced") == ("pipe", "fail", "5.7.1", "go away")


def test_flag_d_needs_recipient_limit_1(pipes):
    """Acceptance 21."""
    inst = pipes.inst
    qid = submit(inst, ["a@dmulti.test", "b@dmulti.test"])
    for rcpt in ("a@dmulti.test", "b@dmulti.test"):
        assert result(inst, qid, rcpt, "deferred") == \
            ("pipe", "dmulti", "4.3.5", "mail system configuration error")
    inst.wait_log(r"postfix/pipe\[\d+\]: warning: pipe flag 'D' requires "
                  r"dmulti_destination_recipient_limit = 1$")
    assert pipes.runs_for("a@dmulti.test") == []


def test_delivered_to_loop_bounces(pipes):
    inst = pipes.inst
    qid = submit(inst, ["Bob@Example.NET"], headers="Delivered-To: BOB@example.net\n")
    assert result(inst, qid, "Bob@Example.NET", "bounced") == \
        ("pipe", "dpipe", "5.4.6", "mail forwarding loop for Bob@Example.NET")
    assert pipes.runs_for("bob@example.net") == []


def test_size_limit_bounces(pipes):
    inst = pipes.inst
    qid = submit(inst, ["big@small.test"], body="x" * 200 + "\n")
    assert result(inst, qid, "big@small.test", "bounced") == \
        ("pipe", "small", "5.2.3", "message too large")
    assert pipes.runs_for("big@small.test") == []


def test_time_limit_bounces(pipes):
    inst = pipes.inst
    qid = submit(inst, ["r@slow.test"])
    assert result(inst, qid, "r@slow.test", "bounced") == \
        ("pipe", "slow", "5.3.0", f'Command time limit exceeded: "{pipes.script} sleep r@slow.test"')


def test_bad_user_is_fatal(make_instance):
    inst = make_instance()
    pipes = make_pipes(inst)
    inst.write_master_cf(inst.read_master_cf()
                         + f"rootpipe unix - n n - - pipe user=root argv={pipes.script} ok\n")
    inst.write_file("transport", TRANSPORT + "root.test rootpipe:\n")
    inst.start()
    submit(inst, ["r@root.test"])
    inst.wait_log(r"postfix/pipe\[\d+\]: fatal: rootpipe: user= attribute specifies root privileges$")
    assert pipes.runs() == []


def test_system_mode_runs_as_user(make_instance):
    """Root-started pipe switches to user=; mail_owner is refused."""
    nobody = pwd.getpwnam("nobody")
    inst = make_instance(system=True)
    out = os.path.join(inst.root, "sysout")
    os.makedirs(out)
    os.chown(out, nobody.pw_uid, nobody.pw_gid)
    script = inst.write_file(os.path.join(inst.root, "id.sh"),
                             f'#!/bin/sh\nid -u > {out}/uid\nid -g > {out}/gid\ncat > {out}/in\n',
                             mode=0o755)
    inst.write_master_cf(inst.default_master_cf()
                         + f"idpipe unix - n n - - pipe flags=R user=nobody argv={script}\n"
                         + f"ownerpipe unix - n n - - pipe user=postfix argv={script}\n")
    inst.write_file("transport", "id.test idpipe:\nowner.test ownerpipe:\n")
    inst.settings.update({"transport_maps": f"texthash:{inst.path}/transport",
                          "default_transport": "error:5.1.2 unrouted"})
    inst.write_main_cf("")
    assert subprocess.run([os.path.join(postern.BIN_DIR, "postfix"), "-c", inst.path, "check"],
                          capture_output=True).returncode == 0
    inst.start()
    qid = submit(inst, ["i@id.test", "o@owner.test"])
    assert result(inst, qid, "i@id.test", "sent")[1:] == ("idpipe", "2.0.0", "delivered via idpipe service")
    with open(os.path.join(out, "uid")) as f:
        assert int(f.read()) == nobody.pw_uid
    with open(os.path.join(out, "gid")) as f:
        assert int(f.read()) == nobody.pw_gid
    with open(os.path.join(out, "in"), "rb") as f:
        assert f.read().startswith(b"Return-Path: <alice@example.org>\n")
    inst.wait_log(r"postfix/pipe\[\d+\]: fatal: ownerpipe: user= attribute specifies mail system owner "
                  r"postfix$")
