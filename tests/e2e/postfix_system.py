"""A complete scratch Debian Postfix 3.7 (queue manager, delivery agents,
smtp/lmtp clients) for checking what the delivery scenarios expect, and
for bench/relay. Needs root (Postfix starts only as root).

    pf = PostfixSystem(work, hostname="mail.example.com")
    pf.configure(main_dict, master_extra="")   main.cf = base + dict;
                                 master.cf = STOCK (smtpd on 127.0.0.1:port)
                                 + master_extra
    pf.start(), pf.stop(), pf.close()          bounded; close removes nothing
    pf.port, pf.conf, pf.queue_dir, pf.log(), pf.wait_log(regex, timeout)
    pf.sendmail(sender, recipients, content)   /usr/sbin/sendmail -C conf
    pf.queue_empty()

Errors: AssertionError with the command output or the log tail.
"""

import os
import re
import shutil
import subprocess
import time

import postern

POSTFIX = "/usr/sbin/postfix"


class PostfixSystem:
    """A scratch Postfix with every stock service (see module docstring)."""

    def __init__(self, work, hostname="mail.example.com"):
        if os.geteuid() != 0:
            raise AssertionError("Debian Postfix starts only as root")
        self.root = os.path.join(work, "postfix")
        self.conf = os.path.join(self.root, "etc")
        self.queue_dir = os.path.join(self.root, "queue")
        self.data_dir = os.path.join(self.root, "data")
        self.mail_dir = os.path.join(self.root, "mail")
        self.log_file = os.path.join(self.root, "maillog")
        for d in (self.conf, self.queue_dir, self.data_dir, self.mail_dir):
            os.makedirs(d, exist_ok=True)
        os.chmod(work, 0o755)
        os.chmod(self.root, 0o755)
        os.chmod(self.mail_dir, 0o1777)
        shutil.chown(self.data_dir, "postfix", "postfix")
        self.hostname = hostname
        self.port = postern.free_port()
        self.env = dict(os.environ, MAIL_CONFIG=self.conf, LC_ALL="C")
        self.running = False
        self.configure({})

    def base(self):
        return {
            "compatibility_level": "3.6",
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "myhostname": self.hostname,
            "mail_spool_directory": self.mail_dir,
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "maillog_file": self.log_file,
            "maillog_file_prefixes": self.root,
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            "smtputf8_enable": "no",
        }

    def master_cf(self):
        """The stock master.cf with smtpd on 127.0.0.1:port (subclasses
        may serve less)."""
        return postern.STOCK_MASTER_CF.replace(
            "smtp inet n - n - - smtpd", f"127.0.0.1:{self.port} inet n - n - - smtpd", 1)

    def configure(self, params, master_extra=""):
        cf = self.base()
        cf.update(params)
        path = os.path.join(self.conf, "main.cf")
        with open(path, "w") as f:
            f.write("".join(f"{k} = {v}\n" for k, v in cf.items()))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(self.master_cf() + master_extra)
        past = time.time() - 120
        os.utime(path, (past, past))
        if self.running:
            self.stop()
            self.start()

    def _master_pid(self):
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def start(self):
        r = subprocess.run([POSTFIX, "-c", self.conf, "start"], env=self.env, capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"postfix start failed: {r.stdout}{r.stderr}")
        self.running = True
        deadline = time.monotonic() + 30
        while not postern.port_listening(self.port):
            if time.monotonic() > deadline:
                raise AssertionError(f"Postfix not listening on {self.port}\n{self.log()[-3000:]}")
            time.sleep(0.02)

    def stop(self):
        pid = self._master_pid()
        subprocess.run([POSTFIX, "-c", self.conf, "stop"], env=self.env, capture_output=True, timeout=60)
        deadline = time.monotonic() + 30
        while pid and postern._pid_alive(pid):
            if time.monotonic() > deadline:
                raise AssertionError("the Postfix master did not exit")
            time.sleep(0.02)
        self.running = False

    def close(self):
        if self.running:
            self.stop()

    def log(self):
        try:
            with open(self.log_file, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, regex, timeout=20, since=0):
        pattern = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.log(), since)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"Postfix log never matched {regex!r}:\n{self.log()[-3000:]}")
            time.sleep(0.05)

    def sendmail(self, sender, recipients, content):
        if isinstance(content, str):
            content = content.encode()
        r = subprocess.run(["/usr/sbin/sendmail", "-C", self.conf, "-f", sender, "--"] + list(recipients),
                           input=content, env=self.env, capture_output=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"sendmail failed: {r.stderr.decode(errors='replace')}")

    def queue_empty(self):
        for sub in ("incoming", "active", "deferred", "hold", "maildrop"):
            for _, _, files in os.walk(os.path.join(self.queue_dir, sub)):
                if files:
                    return False
        return True
