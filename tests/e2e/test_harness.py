"""Self-tests of the harness (postern.py); none needs Postern's programs."""

import os
import socket
import stat
import time

import pytest

import postern


# --- read_maildir ----------------------------------------------------------

def _maildir(tmp_path):
    md = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (md / sub).mkdir(parents=True)
    (md / "new" / "1700000002.V801I2M1.mail").write_bytes(b"second\n")
    (md / "cur" / "1700000001.V801I1M1.mail:2,S").write_bytes(b"first\n")
    (md / "new" / "1700000003.V801I3M1.mail").write_bytes(b"third\n")
    (md / "tmp" / "1700000004.V801I4M1.mail").write_bytes(b"in progress\n")
    return md


def test_read_maildir_new_and_cur_sorted_without_tmp(tmp_path):
    md = _maildir(tmp_path)
    assert postern.read_maildir(md) == [b"first\n", b"second\n", b"third\n"]


def test_read_maildir_accepts_str_and_instance_alias(tmp_path):
    md = _maildir(tmp_path)
    assert postern.Instance.read_maildir(str(md)) == postern.read_maildir(md)


def test_read_maildir_missing_is_empty(tmp_path):
    assert postern.read_maildir(tmp_path / "nosuch") == []


def test_read_maildir_empty_dirs(tmp_path):
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "md" / sub).mkdir(parents=True)
    assert postern.read_maildir(tmp_path / "md") == []


# --- read_mbox -------------------------------------------------------------

MBOX = (b"From alice@example.com  Mon Nov 21 13:57:00 2022\n"
        b"Return-Path: <alice@example.com>\n"
        b"Subject: one\n"
        b"\n"
        b">From me\n"
        b"body one\n"
        b"\n"
        b"From MAILER-DAEMON  Tue Nov 22 08:01:02 2022\n"
        b"Return-Path: <>\n"
        b"Subject: two\n"
        b"\n"
        b"body two, From inside a line\n"
        b"\n")


def test_read_mbox_splits_on_from_lines(tmp_path):
    p = tmp_path / "alice"
    p.write_bytes(MBOX)
    msgs = postern.read_mbox(p)
    assert len(msgs) == 2
    assert msgs[0].startswith(b"From alice@example.com  Mon Nov 21")
    assert b">From me\nbody one\n\n" in msgs[0]
    assert msgs[0].endswith(b"body one\n\n")
    assert msgs[1].startswith(b"From MAILER-DAEMON  Tue Nov 22")
    assert msgs[1].endswith(b"body two, From inside a line\n\n")
    assert b"".join(msgs) == MBOX


def test_read_mbox_single_message_without_final_newline(tmp_path):
    p = tmp_path / "mbox"
    p.write_bytes(b"From a  Mon Nov 21 13:57:00 2022\nSubject: x\n\nbody")
    assert postern.read_mbox(p) == [p.read_bytes()]


def test_read_mbox_missing_and_empty(tmp_path):
    assert postern.read_mbox(tmp_path / "nosuch") == []
    (tmp_path / "empty").write_bytes(b"")
    assert postern.read_mbox(tmp_path / "empty") == []


def test_read_mbox_rejects_non_mbox(tmp_path):
    p = tmp_path / "junk"
    p.write_bytes(b"Subject: no From_ line\n\nbody\n")
    with pytest.raises(ValueError):
        postern.read_mbox(p)


# --- normalise -------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("Nov 21 13:57:00 mail postfix/smtpd[1234]: connect from localhost[127.0.0.1]",
     "DATE mail postfix/smtpd[PID]: connect from localhost[127.0.0.1]"),
    ("Nov  3 01:02:03 mail postfix/qmgr[77]: 5FA26B3DFE: from=<a@b>, size=321, "
     "nrcpt=1 (queue active)",
     "DATE mail postfix/qmgr[PID]: QUEUEID: from=<a@b>, size=321, nrcpt=1 (queue active)"),
    ("postfix/smtpd[99]: NOQUEUE: reject: RCPT from x[10.0.0.1]: 554 5.7.1",
     "postfix/smtpd[PID]: NOQUEUE: reject: RCPT from x[10.0.0.1]: 554 5.7.1"),
    ("250 2.0.0 Ok: queued as 3F1C2A0042",
     "250 2.0.0 Ok: queued as QUEUEID"),
    ("postfix/local[5]: 1A2B3C4D5E: to=<u@d>, relay=local, delay=0.12, "
     "delays=0.01/0/0/0.11, dsn=2.0.0, status=sent (forwarded as 9F8E7D6C5B)",
     "postfix/local[PID]: QUEUEID: to=<u@d>, relay=local, delay=0.12, "
     "delays=0.01/0/0/0.11, dsn=2.0.0, status=sent (forwarded as QUEUEID)"),
    ("\tby mail.example.com (Postern) with ESMTP id 4B2C1D0E3F\n"
     "\tfor <u@d>; Mon, 21 Nov 2022 13:57:00 +0100 (CET)",
     "\tby mail.example.com (Postern) with ESMTP id QUEUEID\n"
     "\tfor <u@d>; DATE"),
    ("From alice@example.com  Mon Nov 21 13:57:00 2022",
     "From alice@example.com  DATE"),
    ("Date: Tue, 1 Feb 2022 08:09:10 -0000",
     "Date: DATE"),
    ("2022-11-21T13:57:00.123+00:00 mail postfix/master[1]: daemon started",
     "DATE mail postfix/master[PID]: daemon started"),
    ("postfix/postfix-script: the Postfix mail system is running: PID: 4242",
     "postfix/postfix-script: the Postfix mail system is running: PID: PID"),
    ("warning: process /usr/libexec/postfix/smtpd pid 31337 exit status 1",
     "warning: process /usr/libexec/postfix/smtpd pid PID exit status 1"),
    ("postfix/cleanup[8]: 4Q3mBt0RVKz9sTV: message-id=<x@y>",
     "postfix/cleanup[PID]: QUEUEID: message-id=<x@y>"),
])
def test_normalise(raw, expected):
    assert postern.normalise(raw) == expected


def test_normalise_leaves_plain_numbers_alone():
    text = "size=10240000, nrcpt=3, delay=12, dsn=5.1.1 <user@example.com>"
    assert postern.normalise(text) == text


def test_normalise_numbered_keeps_identity():
    text = ("A1B2C3D4E5: to=<a@b>, status=sent (forwarded as F0E1D2C3B4)\n"
            "F0E1D2C3B4: from=<a@b>\n"
            "A1B2C3D4E5: removed\n")
    assert postern.normalise(text, numbered=True) == (
        "QUEUEID1: to=<a@b>, status=sent (forwarded as QUEUEID2)\n"
        "QUEUEID2: from=<a@b>\n"
        "QUEUEID1: removed\n")


def test_normalise_bytes_in_bytes_out():
    out = postern.normalise(b"postfix/smtp[12]: ABCDEF1234: to=<x@y>\n")
    assert out == b"postfix/smtp[PID]: QUEUEID: to=<x@y>\n"


# --- ports -----------------------------------------------------------------

def test_free_port_distinct_and_bindable():
    ports = [postern.free_port() for _ in range(20)]
    assert len(set(ports)) == 20
    for port in ports:
        assert 1024 <= port <= 65535
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_port_listening_follows_listen_and_close():
    port = postern.free_port()
    assert not postern.port_listening(port)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        assert not postern.port_listening(port)  # bound is not listening
        s.listen()
        assert postern.port_listening(port)
    assert not postern.port_listening(port)


# --- run_command -----------------------------------------------------------

def test_run_command_captures_streams_and_status():
    r = postern.run_command(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n")
    assert r.stdout_lines == ["out"] and r.stderr_lines == ["err"]
    assert "exit status: 3" in str(r)


def test_run_command_input_and_tty():
    r = postern.run_command(["/bin/sh", "-c", "cat; test -t 2 && echo tty >&2"],
                            input="hello\n", tty=True)
    assert r.stdout == "hello\n"
    assert r.stderr == "tty\n"  # no "\r\n" from the pty
    r = postern.run_command(["/bin/sh", "-c", "test -t 2 || echo notty >&2"])
    assert r.stderr == "notty\n"


def test_run_command_does_not_wait_for_inherited_descriptors():
    # A daemon keeping stdout/stderr open (postfix start) must not block us.
    start = time.monotonic()
    r = postern.run_command(["/bin/sh", "-c", "sleep 5 & echo started"])
    assert r.stdout == "started\n"
    assert time.monotonic() - start < 4
    start = time.monotonic()
    r = postern.run_command(["/bin/sh", "-c", "sleep 5 & echo started >&2"],
                            tty=True)
    assert r.stderr == "started\n"
    assert time.monotonic() - start < 4


def test_run_command_runs_programs_as_if_from_path():
    r = postern.run_command(["/usr/bin/python3", "-c",
                             "import os, sys; print(sys.orig_argv[0]); "
                             "print(os.environ['PATH'].split(':')[0])"])
    assert r.stdout_lines == ["python3", postern.BIN_DIR]
    assert r.argv[0] == "/usr/bin/python3"  # full path in failure messages


def test_run_command_timeout_raises():
    with pytest.raises(AssertionError, match="timed out"):
        postern.run_command(["/bin/sleep", "10"], timeout=0.5)


def test_run_command_missing_program():
    with pytest.raises(postern.MissingProgram, match="not built"):
        postern.run_command(["/nonexistent/postconf"])


# --- ConfigDir -------------------------------------------------------------

def test_config_dir_fixture_layout(config_dir):
    assert config_dir.listdir() == ["main.cf", "master.cf"]
    assert config_dir.read_main_cf() == ""
    assert config_dir.read_master_cf() == ""
    config_dir.write_main_cf({"myorigin": "a", "relayhost": ""})
    assert config_dir.read_main_cf() == "myorigin = a\nrelayhost = \n"
    config_dir.write_main_cf(b"x = 1")
    assert config_dir.read_main_cf() == "x = 1"


def test_config_dir_run_inserts_config_flag(config_dir, tmp_path):
    r = config_dir.run("/bin/echo", "-n", "x", check=True)
    assert r.stdout == f"-c {config_dir.path} -n x\n"
    fake = tmp_path / "bin" / "sendmail"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "$@"; echo "${MAIL_CONFIG-unset}"\n')
    fake.chmod(0o755)
    r = config_dir.run(str(fake), "-t", check=True)
    assert r.stdout_lines == [f"-C {config_dir.path} -t", "unset"]
    r = config_dir.run(str(fake), "-t", config=False, check=True)
    assert r.stdout_lines == ["-t", "unset"]


def test_config_dir_run_check_argument(config_dir):
    assert config_dir.run("/bin/false", check=1).returncode == 1
    with pytest.raises(AssertionError, match="expected exit status 0"):
        config_dir.run("/bin/false", check=True)
    with pytest.raises(AssertionError, match="expected exit status 2"):
        config_dir.run("/bin/false", check=2)


def test_program_paths():
    cd = postern.ConfigDir.__new__(postern.ConfigDir)
    assert cd.program("postconf").startswith(postern.BUILD + os.sep)
    assert cd.program("/bin/true") == "/bin/true"


# --- Instance (without starting it) --------------------------------------

def _main_cf_dict(text):
    return dict(line.split(" = ", 1) for line in text.splitlines())


def test_instance_layout(instance):
    root = instance.root
    for d in (instance.config_dir, instance.queue_dir, instance.data_dir,
              instance.mail_dir, os.path.dirname(instance.log_file)):
        assert os.path.isdir(d) and d.startswith(root + os.sep)
    settings = _main_cf_dict(instance.read_main_cf())
    assert settings["queue_directory"] == instance.queue_dir
    assert settings["data_directory"] == instance.data_dir
    assert settings["daemon_directory"] == postern.LIBEXEC_DIR
    assert settings["command_directory"] == postern.BIN_DIR
    assert settings["mail_spool_directory"] == instance.mail_dir
    assert settings["myhostname"] == postern.TEST_HOSTNAME
    assert settings["inet_interfaces"] == "127.0.0.1"
    assert settings["maillog_file"] == instance.log_file
    assert instance.log_file.startswith(settings["maillog_file_prefixes"])
    master = instance.read_master_cf()
    assert f"127.0.0.1:{instance.smtp_port} inet n - n - - smtpd\n" in master
    assert "\nsmtp inet" not in master and "postlogd" in master
    assert instance._smtp_listener()
    assert len(instance.root) < 40  # UNIX socket paths stay short


def test_instance_is_rootless(instance):
    st = os.stat(instance.config_dir)
    if os.geteuid() == 0:
        assert instance.user is not None and instance.user.pw_uid != 0
        assert st.st_uid == instance.user.pw_uid
        assert os.stat(instance.main_cf).st_uid == instance.user.pw_uid
        r = instance.run("/usr/bin/id", "-u", config=False, check=True)
        assert r.stdout == f"{instance.user.pw_uid}\n"
    else:
        assert instance.user is None and st.st_uid == os.geteuid()
    assert not stat.S_IMODE(os.stat(instance.root).st_mode) & 0o002


def test_instances_do_not_share(make_instance):
    a, b = make_instance(), make_instance(hostname="mail2.example.com")
    assert a.root != b.root and a.smtp_port != b.smtp_port
    assert "myhostname = mail2.example.com\n" in b.read_main_cf()


def test_instance_write_main_cf_overrides_base(instance):
    instance.write_main_cf("myhostname = other.example\nfoo = bar\n")
    text = instance.read_main_cf()
    assert text.count("myhostname") == 1
    assert text.endswith("myhostname = other.example\nfoo = bar\n")
    assert "queue_directory = " in text
    instance.write_main_cf({"relayhost": "[gw]"}, base=False)
    assert instance.read_main_cf() == "relayhost = [gw]\n"


def test_instance_update_main_cf(instance):
    instance.write_main_cf("# c\nrelayhost = a\n  b\n# keep\nmyorigin = o", base=False)
    instance.update_main_cf({"relayhost": "z", "mydomain": "d"})
    assert instance.read_main_cf() == (
        "# c\n# keep\nmyorigin = o\nrelayhost = z\nmydomain = d\n")


def test_instance_close_removes_directory(make_instance):
    inst = make_instance()
    assert inst.close() is None
    assert not os.path.exists(inst.root)


def test_instance_log_helpers(instance):
    assert instance.log() == "" and instance.log_mark() == 0
    with open(instance.log_file, "w") as f:
        f.write("Nov 21 13:57:00 mail postfix/master[1]: daemon started -- version 0.1\n")
    m = instance.wait_log(r"master\[(\d+)\]: daemon started", timeout=1)
    assert m.group(1) == "1"
    mark = instance.log_mark()
    with pytest.raises(AssertionError, match="never matched"):
        instance.wait_log("daemon started", timeout=0.3, since=mark)
    assert "daemon started" in instance.log_tail(1)


def test_instance_wait_queue_empty(instance):
    instance.wait_queue_empty(timeout=0.1)  # no queue directories yet
    d = os.path.join(instance.queue_dir, "deferred", "A")
    os.makedirs(d)
    with open(os.path.join(d, "ABCDEF1234"), "w"):
        pass
    assert instance.queue_files() == [os.path.join(d, "ABCDEF1234")]
    with pytest.raises(AssertionError, match="queue not empty"):
        instance.wait_queue_empty(timeout=0.3)
    os.unlink(os.path.join(d, "ABCDEF1234"))
    instance.wait_queue_empty(timeout=1)


def test_instance_send_mail_against_smtp_peer(instance):
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, options):
            if address.startswith("bad@"):
                return "550 5.1.1 <bad@example.com>: unknown"
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 Ok"

        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 2.0.0 Ok: queued as 3F1C2A0042"

    port = postern.free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        res = instance.send_mail("s@example.com", ["u@example.com", "bad@example.com"],
                                 subject="hello", body="line\n", port=port)
        none = instance.send_mail("s@example.com", "bad@example.com", port=port)
    finally:
        ctl.stop()
    assert res.mail[0] == 250
    assert [c for c, _ in res.rcpt] == [250, 550]
    assert res.accepted and res.queue_id == "3F1C2A0042"
    assert received[0].mail_from == "s@example.com"
    assert received[0].rcpt_tos == ["u@example.com"]
    assert b"Subject: hello" in received[0].original_content
    assert not none.accepted and none.data is None and len(received) == 1
