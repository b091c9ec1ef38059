"""Scratch SMTP servers for the smtpd differential tests and bench/smtpd:
Debian's Postfix 3.7 (as root) and Postern (tests/e2e/postern.py Instance),
each with an SMTP listener on its own free loopback port and no queue
manager, so accepted mail stays in incoming/ (nothing is delivered).

    PostfixSmtpd(work)    Postfix under WORK/postfix; .configure(dict),
                          .start(), .stop(), .port, .queue_dir, .log_file
    PosternSmtpd()        Postern; the same methods
    queued(queue_dir)     complete queue files in incoming/ (paths)
    empty_queue(queue_dir)

configure() replaces main.cf (instance settings + the given dict) and, if
the server runs, restarts it (stop, wait for the master to exit, start,
wait for the port). Errors: AssertionError with the command output / log.
"""

import os
import shutil
import signal
import subprocess
import time

import postern
from postfix_system import PostfixSystem


# What smtpd needs besides itself; no qmgr (public/qmgr is a FIFO drained
# by a sink process), no delivery agents.
POSTFIX_MASTER_CF = """\
{listen} inet n - n - {procs} smtpd
cleanup unix n - n - 0 cleanup
rewrite unix - - n - - trivial-rewrite
flush unix n - n 1000? 0 flush
anvil unix - - n - 1 anvil
proxymap unix - - n - - proxymap
postlog unix-dgram n - n - 1 postlogd
"""
POSTERN_MASTER_CF = """\
{listen} inet n - n - {procs} smtpd
cleanup unix n - n - 0 cleanup
rewrite unix - - n - - trivial-rewrite
flush unix n - n 1000? 0 flush
anvil unix - - n - 1 anvil
proxymap unix - - n - - proxymap
"""


def queued(queue_dir, sub="incoming"):
    """Complete (mode 0700) queue files under QUEUE_DIR/SUB."""
    out = []
    for dirpath, _, files in os.walk(os.path.join(queue_dir, sub)):
        for name in files:
            p = os.path.join(dirpath, name)
            try:
                if os.stat(p).st_mode & 0o700 == 0o700:
                    out.append(p)
            except FileNotFoundError:
                pass
    return sorted(out)


def empty_queue(queue_dir):
    for sub in ("incoming", "maildrop", "hold", "active", "deferred"):
        for dirpath, _, files in os.walk(os.path.join(queue_dir, sub)):
            for name in files:
                try:
                    os.unlink(os.path.join(dirpath, name))
                except FileNotFoundError:
                    pass


def _wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timeout waiting for {what}")
        time.sleep(0.02)


def _qmgr_sink(queue_dir, owner):
    """public/qmgr as a FIFO whose reader discards cleanup's wakeups."""
    fifo = os.path.join(queue_dir, "public", "qmgr")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.makedirs(os.path.dirname(fifo), exist_ok=True)
    os.mkfifo(fifo, 0o622)
    if owner:
        shutil.chown(fifo, owner)
    return subprocess.Popen(["sh", "-c", 'exec cat 0<>"$1" > /dev/null', "qmgr-sink", fifo])


class PostfixSmtpd(PostfixSystem):
    """A scratch Debian Postfix with smtpd on 127.0.0.1:port (needs root):
    PostfixSystem serving only what smtpd needs, and a sink that drains
    cleanup's wakeups to the missing queue manager."""

    name = "postfix"
    mail_name = "Postfix"

    def __init__(self, work, procs=100):
        self.procs = procs
        self.sink = None
        super().__init__(work)

    def master_cf(self):
        return POSTFIX_MASTER_CF.format(listen=f"127.0.0.1:{self.port}", procs=self.procs)

    def base(self):
        return {
            "compatibility_level": "3.6",
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "maillog_file": self.log_file,
            "maillog_file_prefixes": self.root,
            "biff": "no",
            "in_flow_delay": "0",
        }

    def start(self):
        super().start()
        if self.sink is None:
            self.sink = _qmgr_sink(self.queue_dir, "postfix")

    def close(self):
        super().close()
        if self.sink is not None:
            self.sink.kill()
            self.sink.wait()
            self.sink = None

    def smtpd_pids(self):
        """PIDs of this instance's smtpd processes."""
        return _smtpd_pids(self.queue_dir, "smtpd")


class PosternSmtpd:
    """A scratch rootless Postern (postern.Instance) with smtpd on
    127.0.0.1:port, the same shape as PostfixSmtpd."""

    name = "postern"
    mail_name = "Postern"

    def __init__(self, procs=100):
        if not os.access(os.path.join(postern.LIBEXEC_DIR, "smtpd"), os.X_OK):
            raise postern.MissingProgram(f"{postern.LIBEXEC_DIR}/smtpd is not built")
        self.inst = postern.Instance(hostname="mx.example.test")
        self.port = self.inst.smtp_port
        self.queue_dir = self.inst.queue_dir
        self.log_file = self.inst.log_file
        self.conf = self.inst.config_dir
        self.running = False
        self.sink = None
        self.inst.write_master_cf(POSTERN_MASTER_CF.format(listen=f"127.0.0.1:{self.port}", procs=procs))
        self.configure({})

    def configure(self, params):
        self.inst.write_main_cf(dict(params, in_flow_delay="0"))
        if self.running:
            self.stop()
            self.start()

    def start(self):
        self.inst.start()
        self.running = True
        if self.sink is None:
            owner = self.inst.user.pw_name if self.inst.user else None
            self.sink = _qmgr_sink(self.queue_dir, owner)
        _wait(lambda: postern.port_listening(self.port), 30, f"Postern to listen on {self.port}")

    def stop(self):
        self.inst.stop()
        self.running = False

    def close(self):
        if self.sink is not None:
            self.sink.kill()
            self.sink.wait()
            self.sink = None
        err = self.inst.close()
        self.running = False
        return err

    def log(self):
        return self.inst.log()

    def smtpd_pids(self):
        return _smtpd_pids(self.queue_dir, "smtpd")


def _smtpd_pids(queue_dir, prog):
    """PIDs of the processes named PROG whose parent is the master of the
    instance with QUEUE_DIR (its pid/master.pid)."""
    try:
        with open(os.path.join(queue_dir, "pid", "master.pid")) as f:
            master = f.read().split()[0]
    except (FileNotFoundError, IndexError):
        return []
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = stat[stat.rindex(")") + 2:].split()[1]
        if comm == prog and ppid == master:
            out.append(int(pid))
    return out


def kill_quietly(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
