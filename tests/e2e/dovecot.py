"""A throwaway Dovecot (Debian's dovecot-core + dovecot-lmtpd) as the LMTP
server of the end-to-end tests: its own config file, base_dir, state_dir
and log under a temporary directory; an LMTP listener on a UNIX socket and
on 127.0.0.1:PORT; passwd-file users; maildir mailboxes under the same
temporary directory; its auth service with a client socket (the SASL
backend of smtpd_sasl_type = dovecot; users are the passwd-file users with
their passwords, mechanisms PLAIN and LOGIN). Runs in the foreground (`dovecot -F`) as a child of
the test, as root (mail users are then $POSTERN_TEST_USER's uid, default
nobody) or as the invoking user.

    dc = Dovecot()            writes the config (nothing runs yet)
    dc.start(timeout=20)      start, wait until both listeners are there
    dc.stop(timeout=20)       SIGTERM, wait, SIGKILL if it lingers
    with Dovecot() as dc: ... start/stop
    dc.add_user(name)         a passwd-file user (RCPT name or name@any)
    dc.messages(name)         delivered messages (bytes) in its maildir
    dc.wait_messages(name, n, timeout)
    dc.socket_path, dc.port, dc.log()
    dc.auth_socket            the auth client socket (smtpd_sasl_path)
    dc.unix_nexthop           "unix:PATH"      (lmtp next hops for Postern)
    dc.inet_nexthop           "inet:127.0.0.1:PORT"

Errors: AssertionError with Dovecot's log when it does not start or stop
in time, or when the packages are missing.
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

import postern

DOVECOT = "/usr/sbin/dovecot"
LMTP_BINARY = "/usr/lib/dovecot/lmtp"

CONFIG = """\
protocols = lmtp
listen = 127.0.0.1
instance_name = {instance}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
default_internal_user = {internal}
default_login_user = {login}
default_internal_group = {internal_group}
first_valid_uid = 1
first_valid_gid = 1
auth_username_format = %Ln
auth_mechanisms = plain login
disable_plaintext_auth = no
postmaster_address = postmaster@example.com
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {root}/passwd/%n
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd/%n
}}
service auth {{
  unix_listener {auth_socket} {{
    mode = 0666
  }}
}}
service lmtp {{
  unix_listener {socket} {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
}}
"""


class Dovecot:
    """One throwaway Dovecot LMTP server (see the module docstring)."""

    def __init__(self, port=None):
        for prog in (DOVECOT, LMTP_BINARY):
            if not os.access(prog, os.X_OK):
                raise AssertionError(f"{prog} missing: apt-get install dovecot-core dovecot-lmtpd "
                                     "(tools/packages)")
        self.root = tempfile.mkdtemp(prefix="postern-dovecot-")
        os.chmod(self.root, 0o755)
        self.port = port or postern.free_port()
        self.socket_path = os.path.join(self.root, "lmtp")
        self.auth_socket = os.path.join(self.root, "auth-client")
        self.conf = os.path.join(self.root, "dovecot.conf")
        self.passwd = os.path.join(self.root, "passwd")
        self.home = os.path.join(self.root, "home")
        os.makedirs(self.home)
        os.chmod(self.home, 0o755)
        os.makedirs(os.path.join(self.root, "state"))
        if os.geteuid() == 0:
            self.mail_user = pwd.getpwnam(os.environ.get("POSTERN_TEST_USER", "nobody"))
            internal, login = "dovecot", "dovenull"
            internal_group = "dovecot"
        else:
            self.mail_user = pwd.getpwuid(os.getuid())
            internal = login = self.mail_user.pw_name
            internal_group = self.mail_user.pw_name
        os.makedirs(self.passwd)
        with open(self.conf, "w") as f:
            f.write(CONFIG.format(instance=os.path.basename(self.root), root=self.root,
                                  internal=internal, login=login, internal_group=internal_group,
                                  socket=self.socket_path, port=self.port,
                                  auth_socket=self.auth_socket))
        self.proc = None

    @property
    def unix_nexthop(self):
        return f"unix:{self.socket_path}"

    @property
    def inet_nexthop(self):
        return f"inet:127.0.0.1:{self.port}"

    def add_user(self, name, password="secret"):
        """Add NAME (maildir under home/NAME/Maildir, owned by the mail user)."""
        u = self.mail_user
        home = os.path.join(self.home, name)
        os.makedirs(home, exist_ok=True)
        os.chown(home, u.pw_uid, u.pw_gid)
        # One passwd-file per user (args = .../passwd/%n): Dovecot re-reads a
        # changed passwd-file at most once a second, a new file at once.
        tmp = os.path.join(self.passwd, f".{name}")
        with open(tmp, "w") as f:
            f.write(f"{name}:{{PLAIN}}{password}:{u.pw_uid}:{u.pw_gid}::{home}::\n")
        os.rename(tmp, os.path.join(self.passwd, name))
        return name

    def maildir(self, name):
        return os.path.join(self.home, name, "Maildir")

    def messages(self, name):
        """Messages in NAME's maildir (new/ and cur/), oldest file name first."""
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir(name), sub)
            try:
                files = sorted(os.listdir(d))
            except FileNotFoundError:
                continue
            for fn in files:
                with open(os.path.join(d, fn), "rb") as f:
                    out.append(f.read())
        return out

    def wait_messages(self, name, count, timeout=30):
        """Wait until NAME has COUNT messages; return them."""
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages(name)
            if len(msgs) >= count:
                return msgs
            if time.monotonic() > deadline:
                raise AssertionError(f"dovecot: {name} has {len(msgs)} of {count} messages "
                                     f"after {timeout}s\n--- dovecot log ---\n{self.log()}")
            time.sleep(0.05)

    def log(self):
        try:
            with open(os.path.join(self.root, "dovecot.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self, timeout=20):
        """Run `dovecot -F -c CONF`; wait for the UNIX sockets and the TCP port."""
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not (os.path.exists(self.socket_path) and os.path.exists(self.auth_socket)
                   and postern.port_listening(self.port)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                out = self.proc.stdout.read().decode(errors="replace") if self.proc.poll() is not None else ""
                self.stop()
                raise AssertionError(f"dovecot did not start: {out}\n--- dovecot log ---\n{self.log()}")
            time.sleep(0.05)
        return self

    def stop(self, timeout=20):
        """Stop the master and its children (SIGTERM, then SIGKILL)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        # Children that outlived the master (same session) go too.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.stdout.close()
        self.proc = None

    def close(self):
        """stop() and remove the directory (unless POSTERN_KEEP is set)."""
        self.stop()
        if not os.environ.get("POSTERN_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
