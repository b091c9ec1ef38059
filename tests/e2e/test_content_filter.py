"""Content filtering end to end (delivery.md 9; acceptance 38-40), run
against Postern and, as the reference, against Debian's Postfix 3.7
(tests/e2e/postfix_system.py, root only) with the same main.cf/master.cf.

9.2: content_filter = scan:[127.0.0.1]:FPORT with the scan and reinjection
(127.0.0.1:RPORT) master.cf entries of the spec; the filter is a scripted
peer (smtppeer.Peer) that announces XFORWARD and re-injects every message
into RPORT with smtplib, passing on the XFORWARD attributes it got. The
original client connects from 127.0.0.2 so that the reinjected message can
be seen to log it. Final delivery goes to the local mailbox of the
instance's user. These wait for Postern's smtp client: until then they
fail with "build/libexec/smtp is not built".

9.1: a pipe filter (flags=Rq, null_sender=) that re-injects with sendmail
-G -i -f "$sender" -- "$@"; only smtpd sets content_filter, so the
reinjected copy is not filtered again (no smtp client needed).
"""

import os
import pwd
import re
import smtplib
import tempfile
import threading
import time

import pytest

import postern
from postfix_system import PostfixSystem
from smtppeer import Peer

HOST = postern.TEST_HOSTNAME

SCAN_ENTRIES = """\
scan unix - - n - 10 smtp
    -o smtp_send_xforward_command=yes
    -o disable_mime_output_conversion=yes
    -o smtp_generic_maps=
127.0.0.1:{rport} inet n - n - 10 smtpd
    -o content_filter=
    -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
    -o smtpd_helo_restrictions=
    -o smtpd_client_restrictions=
    -o smtpd_sender_restrictions=
    -o smtpd_relay_restrictions=
    -o smtpd_recipient_restrictions=permit_mynetworks,reject
    -o mynetworks=127.0.0.0/8
    -o smtpd_authorized_xforward_hosts=127.0.0.0/8
"""

PIPE_FILTER_SCRIPT = """\
#!/bin/sh
# Content filter (delivery.md 9.1): record the call, re-inject unchanged.
printf '%s\\n' "$*" >> {calls}
sender=
if [ "$1" = "-f" ]; then sender=$2; shift 2; fi
[ "$1" = "--" ] && shift
exec {sendmail} -G -i -f "$sender" -- "$@"
"""


class PosternSystem:
    """A Postern Instance behind the small interface the scenarios use."""

    name = "postern"

    def __init__(self, need=()):
        for prog in need:
            path = os.path.join(postern.LIBEXEC_DIR, prog)
            if not os.access(path, os.X_OK):
                raise postern.MissingProgram(f"{os.path.relpath(path, postern.TOP)} is not built")
        self.inst = postern.Instance()
        u = self.inst.user if self.inst.user is not None else pwd.getpwuid(os.getuid())
        self.user = u
        self.conf = self.inst.config_dir
        self.root = self.inst.root
        self.smtp_port = self.inst.smtp_port
        self.sendmail_path = os.path.join(postern.BIN_DIR, "sendmail")

    def configure(self, params, master_extra=""):
        self.inst.settings.update(params)
        self.inst.write_main_cf("")
        self.inst.write_master_cf(self.inst.default_master_cf() + master_extra)

    def start(self):
        self.inst.start()

    def close(self):
        return self.inst.close()

    def log(self):
        return self.inst.log()

    def wait_log(self, regex, timeout=20):
        return self.inst.wait_log(regex, timeout=timeout)

    def mailbox(self):
        return postern.read_mbox(os.path.join(self.inst.mail_dir, self.user.pw_name))

    def local_address(self):
        return f"{self.user.pw_name}@{HOST}"


class DebianPostfix:
    """Debian's Postfix (PostfixSystem) behind the same interface."""

    name = "postfix"

    def __init__(self, need=()):
        self.work = tempfile.mkdtemp(prefix="postern-pf-filter-")
        self.pf = PostfixSystem(self.work, hostname=HOST)
        self.user = pwd.getpwnam(os.environ.get("POSTERN_TEST_USER", "nobody"))
        self.conf = self.pf.conf
        self.root = self.pf.root
        self.smtp_port = self.pf.port
        self.sendmail_path = f"/usr/sbin/sendmail -C {self.conf}"

    def configure(self, params, master_extra=""):
        self.pf.configure(params, master_extra)

    def start(self):
        self.pf.start()

    def close(self):
        self.pf.close()
        if not os.environ.get("POSTERN_KEEP"):
            import shutil
            shutil.rmtree(self.work, ignore_errors=True)

    def log(self):
        return self.pf.log()

    def wait_log(self, regex, timeout=20):
        return self.pf.wait_log(regex, timeout=timeout)

    def mailbox(self):
        return postern.read_mbox(os.path.join(self.pf.mail_dir, self.user.pw_name))

    def local_address(self):
        return f"{self.user.pw_name}@{HOST}"


SYSTEMS = {"postern": PosternSystem, "postfix": DebianPostfix}


@pytest.fixture
def make_system():
    made = []

    def make(name, need=()):
        s = SYSTEMS[name](need)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def send(system, sender, recipients, subject, source="127.0.0.2"):
    """One SMTP transaction from SOURCE; returns the DATA reply."""
    body = (f"From: <{sender}>\r\nTo: <{recipients[0]}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}.{time.time()}@client.example>\r\n\r\n"
            f"body of {subject}\r\n")
    with smtplib.SMTP("127.0.0.1", system.smtp_port, timeout=30,
                      source_address=(source, 0)) as c:
        c.ehlo("client.example")
        c.mail(sender)
        for r in recipients:
            code, text = c.rcpt(r)
            assert code == 250, (r, code, text)
        return c.data(body.encode())


def delivery(system, rcpt, status, relay=r"\S+"):
    """The first delivery line of RCPT with STATUS and RELAY (a regex)."""
    return system.wait_log(rf"^.*\S+\[\d+\]: (?P<qid>[0-9A-Za-z]+): to=<{re.escape(rcpt)}>, "
                           rf"(?:orig_to=<(?P<orig>[^>]*)>, )?relay=(?P<relay>{relay}), "
                           rf"(?:conn_use=\d+, )?delay=[0-9.]+, delays=[0-9./]+, "
                           rf"dsn=(?P<dsn>\d\.\d+\.\d+), status={status} \((?P<text>.*)\)$")


def wait_count(system, regex, count, timeout=20):
    """Wait until REGEX (multi-line) matches COUNT times in the log; exactly
    COUNT, never more."""
    deadline = time.monotonic() + timeout
    while True:
        found = re.findall(regex, system.log(), re.M)
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) == count, (regex, found, system.log()[-3000:])
            return found
        time.sleep(0.05)


class ReinjectingFilter:
    """A scripted SMTP peer on FPORT that re-injects into RPORT with XFORWARD.
    Subjects containing "reject" get 550 instead."""

    def __init__(self, rport):
        self.rport = rport
        self.errors = []
        self.lock = threading.Lock()
        self.peer = Peer(xforward=True, ehlo_name="filter.test", on_message=self.on_message)

    def on_message(self, msg):
        if b"Subject: reject" in msg.data:
            return (550, "5.7.1 Message content rejected by the filter")
        try:
            with smtplib.SMTP("127.0.0.1", self.rport, timeout=30) as c:
                c.ehlo("filter.test")
                if msg.xforward:
                    code, text = c.docmd("XFORWARD", " ".join(f"{k}={v}" for k, v in msg.xforward.items()))
                    assert code == 250, text
                c.sendmail(msg.mail_from, msg.rcpt_to, msg.data)
        except (OSError, smtplib.SMTPException, AssertionError) as e:
            with self.lock:
                self.errors.append(repr(e))
            return (451, "4.3.0 reinjection failed")
        return None  # default 250 2.0.0 Ok: queued as PEERnnnn

    def __enter__(self):
        self.peer.start()
        return self

    def __exit__(self, *exc):
        self.peer.stop()


def setup_scan(system, extra_main=None):
    rport = postern.free_port()
    filt = ReinjectingFilter(rport)
    filt.peer.start()
    main = {"content_filter": f"scan:[127.0.0.1]:{filt.peer.port}",
            "receive_override_options": "no_address_mappings"}
    main.update(extra_main or {})
    system.configure(main, SCAN_ENTRIES.format(rport=rport))
    return filt


@pytest.mark.parametrize("name", ["postern", "postfix"])
def test_after_queue_filter_passes_each_message_once(make_system, name):
    """Acceptance 38 (first part): every message goes through the filter
    exactly once, is delivered, and the reinjected copy logs the original
    client (XFORWARD)."""
    system = make_system(name, need=("smtp",))
    filt = setup_scan(system)
    try:
        system.start()
        rcpt = system.local_address()
        for i in range(3):
            assert send(system, rcpt, [rcpt], f"filtered {i}")[0] == 250
        msgs = filt.peer.wait_messages(3)
        assert delivery(system, rcpt, "sent", relay="local")["text"] == "delivered to mailbox"
        deadline = time.monotonic() + 20
        while len(system.mailbox()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        box = system.mailbox()
        assert sorted(re.search(rb"Subject: (filtered \d)", m).group(1) for m in box) \
            == [b"filtered 0", b"filtered 1", b"filtered 2"]
        assert len(filt.peer.messages) == 3 and not filt.errors, filt.errors
        assert all(m.xforward.get("ADDR") == "127.0.0.2" for m in msgs)
        assert all(m.rcpt_to == [rcpt] for m in msgs)
        # first hop: relay=127.0.0.1[127.0.0.1]:FPORT, the filter's reply
        wait_count(system, rf"to=<{re.escape(rcpt)}>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{filt.peer.port}, "
                   r".*status=sent \(250 2\.0\.0 Ok: queued as PEER\d+\)$", 3)
        # the original smtpd logs the client; the reinjection smtpd logs the
        # filter's connection plus the original queue ID and client (XFORWARD)
        log = system.log()
        first = re.findall(r"\]: ([0-9A-Za-z]+): client=\S*\[127\.0\.0\.2\]$", log, re.M)
        again = re.findall(r"\]: [0-9A-Za-z]+: client=\S*\[127\.0\.0\.1\], "
                           r"orig_queue_id=([0-9A-Za-z]+), orig_client=\S*\[127\.0\.0\.2\]$", log, re.M)
        assert len(first) == 3 and sorted(first) == sorted(again), (first, again)
    finally:
        filt.peer.stop()


@pytest.mark.parametrize("name", ["postern", "postfix"])
def test_after_queue_filter_reject_and_down(make_system, name):
    """Acceptance 38 (second part): 550 from the filter bounces with
    "(in reply to end of DATA command)"; filter down -> deferred."""
    system = make_system(name, need=("smtp",))
    filt = setup_scan(system)
    try:
        system.start()
        rcpt = system.local_address()
        assert send(system, "", [rcpt], "reject me")[0] == 250
        m = delivery(system, rcpt, "bounced")
        assert m["relay"] == f"127.0.0.1[127.0.0.1]:{filt.peer.port}"
        assert m["dsn"] == "5.7.1"
        assert m["text"] == ("host 127.0.0.1[127.0.0.1] said: 550 5.7.1 Message content rejected by "
                             "the filter (in reply to end of DATA command)")
        filt.peer.stop()
        assert send(system, "", [rcpt], "filter down")[0] == 250
        m = delivery(system, rcpt, "deferred")
        assert m["dsn"].startswith("4.")
        assert m["text"] == f"connect to 127.0.0.1[127.0.0.1]:{filt.peer.port}: Connection refused"
        assert system.mailbox() == []
    finally:
        filt.peer.stop()


@pytest.mark.parametrize("name", ["postern", "postfix"])
def test_after_queue_filter_sees_unmapped_recipient(make_system, name):
    """Acceptance 39: virtual_alias_maps a -> USER: the filter sees a, the
    final delivery (after reinjection) goes to USER."""
    system = make_system(name, need=("smtp",))
    alias = f"alias@{HOST}"
    filt = None
    try:
        local = f"{system.user.pw_name}@{HOST}"
        filt = setup_scan(system, {"virtual_alias_maps": f"inline:{{ {alias}={local} }}"})
        system.start()
        assert send(system, local, [alias], "aliased")[0] == 250
        [msg] = filt.peer.wait_messages(1)
        assert msg.rcpt_to == [alias]
        m = delivery(system, local, "sent", relay="local")
        assert m["orig"] == alias
        assert len(system.mailbox()) == 1
    finally:
        if filt:
            filt.peer.stop()


# Postern only: Debian's sendmail run by the filter user with -C DIR wants
# DIR listed in /etc/postfix/main.cf (alternate_config_directories), which
# a test must not write.
@pytest.mark.parametrize("name", ["postern"])
def test_pipe_filter_with_sendmail_reinjection(make_system, name):
    """Acceptance 40: filter 9.1 re-injecting with sendmail -> delivered once
    (no loop); the null sender stays <>."""
    system = make_system(name, need=("pipe", "smtpd"))
    calls = os.path.join(system.root, "filter-calls")
    script = os.path.join(system.root, "filter.sh")
    with open(script, "w") as f:
        f.write(PIPE_FILTER_SCRIPT.format(calls=calls, sendmail=system.sendmail_path))
    os.chmod(script, 0o755)
    with open(calls, "w"):
        pass
    os.chown(calls, system.user.pw_uid, system.user.pw_gid)
    master = (f"filter unix - n n - 10 pipe\n"
              f"  flags=Rq user={system.user.pw_name} null_sender=\n"
              f"  argv={script} -f ${{sender}} -- ${{recipient}}\n")
    system.configure({}, master)
    # the SMTP listener gets -o content_filter=filter:dummy
    path = os.path.join(system.conf, "master.cf")
    with open(path) as f:
        text = f.read()
    text = re.sub(rf"^(127\.0\.0\.1:{system.smtp_port} inet .*smtpd)$",
                  r"\1\n  -o content_filter=filter:dummy", text, count=1, flags=re.M)
    with open(path, "w") as f:
        f.write(text)
    system.start()
    rcpt = system.local_address()
    assert send(system, "", [rcpt], "null sender")[0] == 250
    assert send(system, "bob@example.org", [rcpt], "bob sender")[0] == 250
    m = delivery(system, rcpt, "sent", relay="filter")
    assert m["text"] == "delivered via filter service"
    delivery(system, rcpt, "sent", relay="local")
    deadline = time.monotonic() + 20
    while len(system.mailbox()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    box = system.mailbox()
    assert len(box) == 2
    by_subject = {re.search(rb"Subject: (.*)\n", m).group(1): m for m in box}
    assert by_subject[b"null sender"].startswith(b"From MAILER-DAEMON ")
    assert b"Return-Path: <>\n" in by_subject[b"null sender"]
    assert b"Return-Path: <bob@example.org>\n" in by_subject[b"bob sender"]
    with open(calls) as f:
        lines = f.read().splitlines()
    assert sorted(lines) == sorted([f"-f  -- {rcpt}", f"-f bob@example.org -- {rcpt}"])
    wait_count(system, r"relay=filter, ", 2)
