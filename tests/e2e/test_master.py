"""End-to-end tests of the master daemon and the server skeletons
(config.md sections 4, 9, 10; checks C33-C41).

Every instance runs the tiny test daemon `testd` (src/testd): a
single_server that greets with "220 $smtpd_banner" and answers PID, SLEEP
n and QUIT, or with -trigger a trigger_server that logs "trigger: BYTES".
The tests drive it over real sockets and read the instance's log.
"""

import os
import re
import signal
import socket
import time

import pytest

import postern

# The test daemon is built for the tests only (not installed); master.cf
# names it by absolute path.
TESTD = os.path.join(postern.BUILD, "test-libexec", "testd")


def wait_until(predicate, timeout=10, what="condition"):
    """Poll PREDICATE until it is true; fail after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def pid_alive(pid):
    return postern._pid_alive(pid)


class Session:
    """One testd conversation: the banner, then one reply line per command."""

    def __init__(self, port, host="127.0.0.1", timeout=10, greet=True):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.banner = self.readline() if greet else None

    def readline(self):
        return self.file.readline().decode().rstrip("\r\n")

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.readline()

    def pid(self):
        reply = self.cmd("PID")
        assert re.fullmatch(r"250 \d+", reply), reply
        return int(reply[4:])

    def quit(self):
        reply = self.cmd("QUIT")
        self.close()
        return reply

    def close(self):
        self.file.close()
        self.sock.close()


def master_line(port, maxproc="-", extra=""):
    return f"127.0.0.1:{port} inet n - n - {maxproc} {TESTD} {extra}\n"


def start(inst, master_cf, **params):
    inst.write_master_cf(master_cf)
    if params:
        inst.update_main_cf(params)
    inst.start()


def test_banner_override_address_and_missing_program(instance):
    # C34: -o { name = value } reaches the daemon ($service_name expands);
    # the listener is bound to the given address only.
    port = instance.smtp_port
    start(instance, master_line(port, 10, "-o { smtpd_banner = a b $service_name }")
          + "foo unix n - n - - nosuchprogram\n")
    s = Session(port)
    assert s.banner == f"220 a b 127.0.0.1:{port}"
    assert s.cmd("HELLO") == "250 ok"
    assert s.quit() == "221 2.0.0 Bye"
    assert postern.port_listening(port, "127.0.0.1")
    assert not postern.port_listening(port, "127.0.0.2")  # no wildcard listener
    log = instance.log()
    assert re.search(r'postfix/master\[\d+\]: warning: service "foo/unix": '
                     rf'{re.escape(postern.LIBEXEC_DIR)}/nosuchprogram: No such file or directory; '
                     r'service not started', log)


def test_process_limit_and_stop(instance):
    # C35: default_process_limit = 3 and 5 simultaneous sessions.
    port = instance.smtp_port
    start(instance, master_line(port), default_process_limit="3")
    sessions = [Session(port) for _ in range(3)]
    pids = {s.pid() for s in sessions}
    assert len(pids) == 3
    waiting = [Session(port, greet=False) for _ in range(2)]
    warning = (rf'postfix/master\[\d+\]: warning: service "127.0.0.1:{port}" \(127.0.0.1:{port}\) '
               r'has reached its process limit "3": new clients may experience noticeable delays')
    instance.wait_log(warning)
    # A waiting client is served as soon as a process is free.
    sessions.pop().quit()
    waiting[0].banner = waiting[0].readline()
    assert waiting[0].banner == "220 mail.example.com ESMTP Postern"
    sessions.pop().quit()
    waiting[1].banner = waiting[1].readline()
    assert waiting[1].pid() in pids
    assert len(re.findall(warning, instance.log())) == 1
    for s in sessions + waiting:
        s.close()
    # Stop: the master logs the signal and its processes go away.
    instance.stop()
    assert re.search(r"postfix/master\[\d+\]: terminating on signal 15", instance.log())
    wait_until(lambda: not any(pid_alive(p) for p in pids), what="service processes to exit")


def test_max_use_and_max_idle(instance):
    # C36 with one process at a time, so which process serves is certain.
    port = instance.smtp_port
    start(instance, master_line(port, 1), max_use="2", max_idle="1s")
    first = Session(port)
    p1 = first.pid()
    first.quit()
    second = Session(port)
    assert second.pid() == p1
    second.quit()
    third = Session(port)
    p3 = third.pid()
    assert p3 != p1
    third.quit()
    # max_idle: the idle process exits by itself, the next client gets a new one.
    wait_until(lambda: not pid_alive(p3), timeout=8, what="idle process to exit")
    fourth = Session(port)
    assert fourth.pid() not in (p1, p3)
    fourth.quit()
    assert "exit status" not in instance.log()


def test_reload_changes_banner_and_keeps_session(instance):
    # C38: a new process reads the new main.cf; the old session completes.
    port = instance.smtp_port
    start(instance, master_line(port), smtpd_banner="before")
    old = Session(port)
    assert old.banner == "220 before"
    old_pid = old.pid()
    instance.postconf("-e", "smtpd_banner=changed", check=True)
    mark = instance.log_mark()
    instance.postfix("reload", check=True)
    instance.wait_log(r"postfix/master\[\d+\]: reload -- version \S+, configuration "
                      + re.escape(instance.config_dir), since=mark)
    new = Session(port)
    assert new.banner == "220 changed"
    assert new.pid() != old_pid
    assert old.cmd("SLEEP 0") == "250 ok"
    assert old.quit() == "221 2.0.0 Bye"
    new.quit()
    # The old-generation process exits once its client is done.
    wait_until(lambda: not pid_alive(old_pid), what="old process to exit")


def test_reload_rereads_logging_settings(instance):
    # The master's own log lines follow a changed syslog_name after reload.
    start(instance, master_line(instance.smtp_port))
    instance.postconf("-e", "syslog_name=renamed", check=True)
    mark = instance.log_mark()
    instance.postfix("reload", check=True)
    instance.wait_log(r"renamed/master\[\d+\]: reload -- version", since=mark)


def test_reload_removes_service(instance):
    # C39: delete a line + reload -> port closed, its processes gone.
    port, other = instance.smtp_port, postern.free_port()
    start(instance, master_line(port) + master_line(other))
    s = Session(port)
    pid = s.pid()
    instance.write_master_cf(master_line(other))
    mark = instance.log_mark()
    instance.postfix("reload", check=True)
    instance.wait_log(r"reload -- version", since=mark)
    wait_until(lambda: not postern.port_listening(port), what="port to close")
    wait_until(lambda: not pid_alive(pid), what="removed service's process to exit")
    s.close()
    kept = Session(other)
    assert kept.banner.startswith("220 ")
    kept.quit()


def test_two_instances(make_instance):
    # C41: two instances side by side, each with its own log and ports.
    a = make_instance()
    b = make_instance(hostname="mail2.example.com")
    start(a, master_line(a.smtp_port), smtpd_banner="instance A")
    start(b, master_line(b.smtp_port), smtpd_banner="instance B")
    for inst, name in ((a, "A"), (b, "B")):
        s = Session(inst.smtp_port)
        assert s.banner == f"220 instance {name}"
        s.quit()
    assert a.master_pid() != b.master_pid()
    assert a.config_dir in a.log() and b.config_dir not in a.log()
    assert b.config_dir in b.log() and a.config_dir not in b.log()


def test_crashed_process_is_replaced(instance):
    port = instance.smtp_port
    start(instance, master_line(port))
    s = Session(port)
    pid = s.pid()
    os.kill(pid, signal.SIGKILL)
    s.close()
    instance.wait_log(rf"postfix/master\[\d+\]: warning: process {re.escape(TESTD)} "
                      rf"pid {pid} killed by signal 9")
    again = Session(port)
    assert again.pid() != pid
    assert again.quit() == "221 2.0.0 Bye"
    assert "bad command startup" not in instance.log()


def test_no_process_limit_warning_for_internal_services(instance):
    # The process-limit warning is for inet services; an internal service
    # at its limit (qmgr and pickup at 1, delivery agents) is normal.
    start(instance, f"lone unix n - n - 1 {TESTD}\n")
    path = os.path.join(instance.queue_dir, "public", "lone")
    first = socket.socket(socket.AF_UNIX)
    first.settimeout(10)
    first.connect(path)
    assert first.makefile("rb").readline().startswith(b"220 ")
    second = socket.socket(socket.AF_UNIX)
    second.settimeout(10)
    second.connect(path)  # waits: the one process is busy
    first.close()
    assert second.makefile("rb").readline().startswith(b"220 ")  # served once the first is gone
    second.close()
    assert "has reached its process limit" not in instance.log()


def test_wakeup_trigger(instance):
    # C33: the wakeup column; "N?" waits for the first use. -o syslog_name
    # changes the daemon's log tag.
    start(instance, f"wake unix n - n 1 1 {TESTD} -trigger -o syslog_name=postfix/$service_name\n"
                    f"cond unix n - n 1? 1 {TESTD} -trigger -o syslog_name=postfix/$service_name\n")
    instance.wait_log(r"postfix/wake/testd\[\d+\]: trigger: W\n", timeout=5)
    instance.wait_log(r"(?s)postfix/wake/testd\[\d+\]: trigger: W\n.*"
                      r"postfix/wake/testd\[\d+\]: trigger: W\n", timeout=5)
    assert "postfix/cond/testd" not in instance.log()
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(os.path.join(instance.queue_dir, "public", "cond"))
        c.sendall(b"hello")
    instance.wait_log(r"postfix/cond/testd\[\d+\]: trigger: hello\n", timeout=5)
    instance.wait_log(r"postfix/cond/testd\[\d+\]: trigger: W\n", timeout=5)


def test_startup_failure_throttles(instance):
    port = instance.smtp_port
    start(instance, f"127.0.0.1:{port} inet n - n - - /bin/false\n")
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    instance.wait_log(r"postfix/master\[\d+\]: warning: process /bin/false pid \d+ exit status 1")
    instance.wait_log(r"postfix/master\[\d+\]: warning: /bin/false: bad command startup -- throttling")
    c.close()
    # Throttled: the listener stays open, the connection simply waits.
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    c.close()
    assert postern.port_listening(port)
