"""End-to-end test harness for Postern.

Drives the real programs the way an administrator would: writes main.cf and
master.cf, runs commands with `-c DIR`, starts and stops a throwaway
instance, talks SMTP to it and reads the log, the queue and the delivered
mailboxes.

Programs are taken from $POSTERN_BUILD (default: BUILD under the repository
root): commands in $POSTERN_BUILD/bin, daemons in $POSTERN_BUILD/libexec.

Public interface (see each docstring):
    BUILD, BIN_DIR, LIBEXEC_DIR      where the programs under test live
    Result                           outcome of one command
    MissingProgram                   raised when a program is not built yet
    run_command(argv, ...)           run one program, capture stdout/stderr
    ConfigDir(path)                  a config directory (main.cf, master.cf)
    Instance()                       a complete rootless instance
                                     (Instance(system=True): system mode, as root)
    free_port(), port_listening()    loopback TCP ports
    read_maildir(), read_mbox()      delivered messages as bytes
    normalise(text)                  replace queue IDs, dates, PIDs by tokens
    encode_record(), decode_records() queue-file records (docs/queue-file.md)
    Instance.cleanup_submit()        one message straight to the cleanup service
    Instance.postcat(), queue_ids()  read queued messages
    STOCK_MASTER_CF                  config.md 3.6, the installed master.cf

Errors are reported by raising AssertionError (or MissingProgram, which is
one) with the command, its exit status, its output and the instance's log
tail, so a failing test says what happened without re-running it.

When the tests run as root, an Instance runs Postern's programs as an
unprivileged account ($POSTERN_TEST_USER, default "nobody") so that the
instance really is rootless (config.md section 10, design.md "Two ways to
run"). ConfigDir commands run as the invoking user.
"""

import email.utils
import os
import pty
import pwd
import re
import select
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import termios
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("POSTERN_BUILD") or os.path.join(TOP, "build"))
BIN_DIR = os.path.join(BUILD, "bin")
LIBEXEC_DIR = os.path.join(BUILD, "libexec")
# The scriptable delivery agent of the tests (src/testagent; not installed).
TESTAGENT = os.path.join(BUILD, "test-libexec", "testagent")

# The instance's fixed host name (config.md section 11: every instance needs
# its own; tests that run two instances set a second one).
TEST_HOSTNAME = "mail.example.com"

# Queue directories that hold mail not yet delivered (queue.md).
QUEUE_SUBDIRS = ("incoming", "active", "deferred", "hold", "maildrop")

# How each command is pointed at a config directory. Commands not listed
# take "-c DIR"; None means the command has no flag and reads MAIL_CONFIG.
CONFIG_FLAG = {
    "sendmail": "-C",
    "mailq": "-C",
    "newaliases": "-C",
    "qshape": None,
}

# config.md 3.6: the stock master.cf that Postern installs.
STOCK_MASTER_CF = """\
smtp inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
  -o syslog_name=${multi_instance_name?{$multi_instance_name}:{postfix}}/$service_name
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


class MissingProgram(AssertionError):
    """A Postern program the test needs has not been built (yet)."""


class Result:
    """Outcome of one command: argv, returncode, stdout, stderr (text)."""

    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def stdout_lines(self):
        """stdout split into lines, without line ends."""
        return self.stdout.splitlines()

    @property
    def stderr_lines(self):
        """stderr split into lines, without line ends."""
        return self.stderr.splitlines()

    def __str__(self):
        return (f"command: {' '.join(self.argv)}\n"
                f"exit status: {self.returncode}\n"
                f"--- stdout ---\n{self.stdout}"
                f"--- stderr ---\n{self.stderr}"
                "--- end ---")

    __repr__ = __str__


def _clean_env(extra=None):
    """The environment for Postern programs: ours minus Postern's own knobs."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAIL_CONFIG", "MAIL_VERBOSE", "MAIL_DEBUG")}
    env["LC_ALL"] = "C"
    env["PATH"] = os.pathsep.join([BIN_DIR, env.get("PATH") or "/usr/bin:/bin"])
    if extra:
        env.update(extra)
    return env


def _read_tty(fd, chunks, stop):
    """Collect what a program writes to its pty until EOF or told to stop."""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            if stop.is_set():
                return
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: every slave descriptor is closed
            return
        if not data:
            return
        chunks.append(data)


def run_command(argv, input=None, env=None, cwd=None, timeout=60, tty=False,
                user=None):
    """Run one program and return its Result.

    stdout and stderr are captured through temporary files, not pipes, so a
    daemon that inherits them (postfix start) can never make this wait.
    input: str or bytes for stdin (default: /dev/null). tty: give the program
    a pseudo-terminal as stderr, as an administrator at a terminal has
    (postfix reports to stderr only when it is interactive, config.md 5).
    user: a pwd entry to run as (only when we are root). On timeout the
    program is killed and AssertionError is raised.
    """
    argv = [str(a) for a in argv]
    if not os.path.exists(argv[0]):
        raise MissingProgram(f"program not built: {argv[0]} "
                             f"(POSTERN_BUILD={BUILD})")
    env = _clean_env() if env is None else env
    kwargs = {}
    if user is not None:
        kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryFile() as inp:
        if input is not None:
            inp.write(input.encode() if isinstance(input, str) else input)
            inp.seek(0)
        stdin = inp if input is not None else subprocess.DEVNULL
        master = slave = None
        reader = None
        chunks = []
        stop = threading.Event()
        stderr = err
        if tty:
            master, slave = pty.openpty()
            attrs = termios.tcgetattr(slave)
            attrs[1] &= ~termios.OPOST  # no "\n" -> "\r\n" translation
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
            stderr = slave
            reader = threading.Thread(target=_read_tty,
                                      args=(master, chunks, stop), daemon=True)
            reader.start()
        try:
            # argv[0] is the bare name, as when an administrator runs the
            # command from PATH: Postfix-style programs name themselves
            # after argv[0] in messages ("postconf: warning: ...").
            proc = subprocess.Popen([os.path.basename(argv[0])] + argv[1:],
                                    executable=argv[0], stdin=stdin, stdout=out,
                                    stderr=stderr, env=env, cwd=cwd, **kwargs)
            if slave is not None:
                os.close(slave)
                slave = None
            try:
                returncode = proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                proc.kill()
                returncode = proc.wait()
                timed_out = True
        finally:
            if slave is not None:
                os.close(slave)
            if reader is not None:
                stop.set()
                reader.join(5)
                os.close(master)
        out.seek(0)
        stdout_text = out.read().decode("utf-8", "surrogateescape")
        if tty:
            stderr_text = b"".join(chunks).decode("utf-8", "surrogateescape")
        else:
            err.seek(0)
            stderr_text = err.read().decode("utf-8", "surrogateescape")
    result = Result(argv, returncode, stdout_text, stderr_text)
    if timed_out:
        raise AssertionError(f"timed out after {timeout}s and killed:\n{result}")
    return result


def _check_result(result, check, context=""):
    """Apply run()'s check= argument: True means exit 0, an int that status."""
    if check is None or check is False:
        return result
    want = 0 if check is True else check
    if result.returncode != want:
        raise AssertionError(f"expected exit status {want}:\n{result}{context}")
    return result


def _content_bytes(content):
    """main.cf content given as str, bytes or dict (name -> value)."""
    if isinstance(content, dict):
        content = "".join(f"{k} = {v}\n" for k, v in content.items())
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogateescape")
    return content


class ConfigDir:
    """A config directory holding main.cf and master.cf (both empty at first).

    For the many postconf tests that need nothing else (config.md 13:
    "DIR holds the given main.cf and an empty master.cf").
    Attributes: path, main_cf, master_cf.
    """

    def __init__(self, path, user=None):
        self.path = os.path.abspath(str(path))
        self.user = user  # pwd entry to run programs as, or None
        os.makedirs(self.path, exist_ok=True)
        self._own(self.path)
        self.main_cf = os.path.join(self.path, "main.cf")
        self.master_cf = os.path.join(self.path, "master.cf")
        self.write_file(self.main_cf, b"")
        self.write_file(self.master_cf, b"")

    def _own(self, path):
        """Give PATH to the account that runs the programs."""
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def write_file(self, path, content, mode=None):
        """Write PATH (absolute, or relative to this directory); return it."""
        path = os.path.join(self.path, str(path))
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        with open(path, "wb") as f:
            f.write(content)
        if mode is not None:
            os.chmod(path, mode)
        self._own(path)
        return path

    def write_main_cf(self, content):
        """Replace main.cf with CONTENT: exact str/bytes, or a dict."""
        return self.write_file(self.main_cf, _content_bytes(content))

    def write_master_cf(self, content):
        """Replace master.cf with CONTENT (str or bytes, written as is)."""
        return self.write_file(self.master_cf, content)

    def read_main_cf(self):
        """main.cf's current text."""
        with open(self.main_cf, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()

    def read_master_cf(self):
        """master.cf's current text."""
        with open(self.master_cf, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()

    def listdir(self):
        """Sorted names in the config directory (to spot leftover files)."""
        return sorted(os.listdir(self.path))

    def program(self, cmd):
        """Absolute path of Postern program CMD (bin/ first, then libexec/)."""
        if os.path.isabs(cmd):
            return cmd
        for d in (BIN_DIR, LIBEXEC_DIR):
            p = os.path.join(d, cmd)
            if os.path.exists(p):
                return p
        return os.path.join(BIN_DIR, cmd)

    def _context(self):
        """Extra text for failure messages (Instance adds its log)."""
        return ""

    def run(self, cmd, *args, input=None, check=False, tty=None, env=None,
            timeout=60, config=True):
        """Run Postern command CMD on this directory and return a Result.

        `-c DIR` (or sendmail's `-C DIR`; MAIL_CONFIG for commands without
        a flag) is inserted before ARGS unless config=False. check: False
        (default) accepts any exit status, True requires 0, an int requires
        that status. tty defaults to True for `postfix` (which reports on
        stderr only when interactive) and False otherwise.
        """
        name = os.path.basename(cmd)
        argv = [self.program(cmd)]
        extra_env = dict(env or {})
        if config:
            flag = CONFIG_FLAG.get(name, "-c")
            if flag is None:
                extra_env.setdefault("MAIL_CONFIG", self.path)
            else:
                argv += [flag, self.path]
        argv += [str(a) for a in args]
        if tty is None:
            tty = name == "postfix"
        result = run_command(argv, input=input, env=_clean_env(extra_env),
                             timeout=timeout, tty=tty, user=self.user,
                             cwd=self.path)
        return _check_result(result, check, self._context())

    def postconf(self, *args, **kwargs):
        """run("postconf", *args): `postconf -c DIR ARGS`."""
        return self.run("postconf", *args, **kwargs)

    def postfix(self, *args, **kwargs):
        """run("postfix", *args): `postfix -c DIR ARGS` (stderr on a pty)."""
        return self.run("postfix", *args, **kwargs)


def _test_user():
    """The account an Instance runs as when the tests run as root."""
    name = os.environ.get("POSTERN_TEST_USER", "nobody")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise AssertionError(f"POSTERN_TEST_USER {name!r}: no such user") from None


def user_access_problem():
    """None, or why the tests cannot run: run as root, they run Postern's
    programs as the test user, who must be able to reach the build and
    the repository (a clone under /root or a home directory of mode 0700
    is out of its reach). tools/check and bench/run ask first."""
    program = os.path.join(BUILD, "bin", "postconf")
    if os.geteuid() != 0 or not os.path.exists(program):
        return None
    user = _test_user()
    probe = subprocess.run(["/usr/bin/test", "-x", program, "-a", "-r", os.path.join(TOP, "tests", "e2e")],
                           user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    if probe.returncode == 0:
        return None
    return (f"run as root, the tests run Postern's programs as the unprivileged user {user.pw_name!r} "
            f"($POSTERN_TEST_USER), who cannot reach {program} or {TOP}: a directory on the way is closed "
            f"to it (on Debian, /root and home directories are mode 0700). Clone the repository where "
            f"others can read it (e.g. under /srv), run as an ordinary user, or set POSTERN_TEST_USER "
            f"to a user who can read it.")


_ports_handed_out = set()
_ports_lock = threading.Lock()


def free_port(host="127.0.0.1"):
    """A TCP port on HOST that is free now and not handed out before by us."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        with _ports_lock:
            if port not in _ports_handed_out:
                _ports_handed_out.add(port)
                return port
    raise AssertionError("no free TCP port found")


def port_listening(port, host="127.0.0.1"):
    """True when some socket LISTENs on HOST:PORT (or the wildcard).

    Reads /proc/net/tcp{,6} instead of connecting, so checking readiness
    never creates an SMTP session that tests would see in the log.
    """
    want = {socket.inet_aton(host)[::-1].hex().upper(), "00000000"}
    for table, wild in (("/proc/net/tcp", None), ("/proc/net/tcp6", "0" * 32)):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    addr, _, hexport = fields[1].partition(":")
                    if fields[3] != "0A" or int(hexport, 16) != port:
                        continue
                    if addr in want or addr == wild:
                        return True
        except FileNotFoundError:
            continue
    return False


def _pid_alive(pid):
    """True when process PID exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


class SendResult:
    """Replies of one SMTP transaction: (code, text) pairs and the queue ID."""

    def __init__(self):
        self.banner = None
        self.ehlo = None
        self.mail = None
        self.rcpt = []
        self.data = None
        self.queue_id = None

    @property
    def accepted(self):
        """True when DATA was answered with 250."""
        return self.data is not None and self.data[0] == 250

    def __repr__(self):
        return (f"SendResult(mail={self.mail}, rcpt={self.rcpt}, "
                f"data={self.data}, queue_id={self.queue_id})")


def _reply(code_msg):
    code, msg = code_msg
    return code, msg.decode("utf-8", "replace") if isinstance(msg, bytes) else msg


class Instance(ConfigDir):
    """A throwaway rootless Postern instance in its own temporary directory.

    Layout under `root`: etc/ (config: main.cf, master.cf), queue/, data/,
    mail/ (mail_spool_directory), log/maillog (maillog_file). main.cf gets
    `settings` (see base_settings()) so the instance touches nothing outside
    `root`; master.cf is the stock one with its SMTP listener on
    127.0.0.1:smtp_port.
    """

    def __init__(self, hostname=TEST_HOSTNAME, user=None, keep=None, system=False):
        """system=True (tests running as root only): a SYSTEM-mode instance
        (config.md 10). Programs run as root, so the master drops daemons
        to mail_owner; `root` is mode 0755 so mail_owner and submitting
        users can reach queue/ and etc/; queue/ and data/ are not created
        (`postfix check` creates them with Postfix's owners); the master
        makes log/maillog mail_owner's, and sendmail/postdrop run by other
        users log to syslog instead (maillog_client.h).
        Default (system=False): a rootless instance, as before."""
        self.system = system
        if system:
            if os.geteuid() != 0:
                raise AssertionError("Instance(system=True) needs root")
            user = None
        elif user is None and os.geteuid() == 0:
            user = _test_user()
        self.root = tempfile.mkdtemp(prefix="postern-")
        self.keep = bool(os.environ.get("POSTERN_KEEP")) if keep is None else keep
        self.user = user
        self._own(self.root)
        if system:
            os.chmod(self.root, 0o755)
        self.hostname = hostname
        self.queue_dir = os.path.join(self.root, "queue")
        self.data_dir = os.path.join(self.root, "data")
        self.mail_dir = os.path.join(self.root, "mail")
        self.log_dir = os.path.join(self.root, "log")
        self.log_file = os.path.join(self.log_dir, "maillog")
        for d in (self.queue_dir, self.data_dir, self.mail_dir, self.log_dir):
            if system and d in (self.queue_dir, self.data_dir):
                continue
            os.makedirs(d)
            self._own(d)
        self.smtp_port = free_port()
        self.started = False
        super().__init__(os.path.join(self.root, "etc"), user=user)
        self.config_dir = self.path
        self.settings = self.base_settings()
        self.write_main_cf("")
        self.write_master_cf(self.default_master_cf())

    def base_settings(self):
        """main.cf settings that make the instance self-contained."""
        return {
            "compatibility_level": "3.6",
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "daemon_directory": LIBEXEC_DIR,
            "command_directory": BIN_DIR,
            "sendmail_path": os.path.join(BIN_DIR, "sendmail"),
            "newaliases_path": os.path.join(BIN_DIR, "newaliases"),
            "mailq_path": os.path.join(BIN_DIR, "mailq"),
            "mail_spool_directory": self.mail_dir,
            "myhostname": self.hostname,
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            "maillog_file": self.log_file,
            "maillog_file_prefixes": self.root,
            # Hundreds of instances: the stock 1,000 spare queue files
            # would cost each one about half a second of file creation.
            "queue_spare_files": "10",
            # Many tests run without a queue manager, which is what hands
            # out in_flow_delay tokens: smtpd and pickup would wait a second
            # per message there (test_flow.py tests the wait).
            "in_flow_delay": "0",
        }

    def add_test_agent(self):
        """Add service "test" to master.cf: the test delivery agent with the
        rules file ROOT/agent-rules (written empty, readable by the agent)
        and the journal ROOT/agent-journal. Returns (rules, journal)."""
        rules = os.path.join(self.root, "agent-rules")
        journal = os.path.join(self.root, "agent-journal")
        with open(rules, "w") as f:
            f.write("")
        os.chmod(rules, 0o644)
        self.write_master_cf(self.read_master_cf() + f"test unix - - n - - {TESTAGENT} {rules} {journal}\n")
        return rules, journal

    def default_master_cf(self):
        """The stock master.cf with `smtp inet` moved to 127.0.0.1:smtp_port."""
        return STOCK_MASTER_CF.replace(
            "smtp inet n - n - - smtpd",
            f"127.0.0.1:{self.smtp_port} inet n - n - - smtpd", 1)

    def write_main_cf(self, content="", base=True):
        """Write main.cf: `settings` first (unless base=False), then CONTENT.

        CONTENT is exact text/bytes or a dict. A base setting whose name
        CONTENT assigns is left out, so CONTENT's value is the only one.
        """
        content = _content_bytes(content)
        if base:
            text = content.decode("utf-8", "surrogateescape")
            overridden = set(re.findall(r"^([A-Za-z0-9_]+)[ \t]*=", text, re.M))
            head = "".join(f"{k} = {v}\n" for k, v in self.settings.items()
                           if k not in overridden).encode()
            content = head + content
        return self.write_file(self.main_cf, content)

    def update_main_cf(self, params):
        """Set PARAMS (dict) in main.cf without postconf: replace or append."""
        lines = self.read_main_cf().splitlines(keepends=True)
        out, skipping = [], False
        for line in lines:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                out.append(line)  # ignored lines never end an entry (2.1)
                continue
            if line[0] in " \t":
                if not skipping:
                    out.append(line)
                continue
            m = re.match(r"([A-Za-z0-9_]+)[ \t]*=", line)
            skipping = m is not None and m.group(1) in params
            if not skipping:
                out.append(line)
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out += [f"{k} = {v}\n" for k, v in params.items()]
        self.write_file(self.main_cf, "".join(out))

    def _context(self):
        return f"\n--- log tail ({self.log_file}) ---\n{self.log_tail()}"

    # --- master control ---------------------------------------------------

    def master_pid(self):
        """The PID in queue/pid/master.pid, or None."""
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _smtp_listener(self):
        """True when master.cf has this instance's SMTP listener line."""
        try:
            text = self.read_master_cf()
        except FileNotFoundError:
            return False
        return re.search(rf"^127\.0\.0\.1:{self.smtp_port}\s+inet\s", text, re.M) \
            is not None

    def start(self, timeout=30, check=True):
        """`postfix -c DIR start`, then wait until the master is ready.

        Ready means the log shows "daemon started" after this call, or the
        SMTP port listens (when master.cf has the listener). Returns the
        Result; with check=False a failing start is returned, not raised.
        """
        mark = self.log_mark()
        result = self.run("postfix", "start")
        if result.returncode != 0:
            if check:
                raise AssertionError(f"postfix start failed:\n{result}{self._context()}")
            return result
        self.started = True
        listener = self._smtp_listener()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(r"master\[\d+\]: daemon started", self.log()[mark:]):
                return result
            if listener and port_listening(self.smtp_port):
                return result
            time.sleep(0.05)
        raise AssertionError(f"instance not ready after {timeout}s:\n{result}"
                             f"{self._context()}")

    def stop(self, timeout=30, check=True):
        """`postfix -c DIR stop`, then wait until the master has exited."""
        pid = self.master_pid()
        result = self.run("postfix", "stop")
        if result.returncode != 0 and check:
            raise AssertionError(f"postfix stop failed:\n{result}{self._context()}")
        self.started = False
        if pid is not None:
            deadline = time.monotonic() + timeout
            while _pid_alive(pid):
                if time.monotonic() > deadline:
                    raise AssertionError(f"master pid {pid} still running "
                                         f"{timeout}s after stop{self._context()}")
                time.sleep(0.05)
        return result

    def _kill_master(self):
        """Last resort at teardown: SIGKILL the master's process group."""
        pid = self.master_pid()
        if pid is None or not _pid_alive(pid):
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self):
        """Stop the instance if it runs and remove its directory.

        Returns an error text when the instance did not stop cleanly.
        """
        error = None
        pid = self.master_pid()
        if self.started or (pid is not None and _pid_alive(pid)):
            try:
                self.stop(timeout=10, check=False)
            except MissingProgram:
                pass
            except AssertionError as e:
                error = str(e)
            self._kill_master()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        return error

    # --- log --------------------------------------------------------------

    def log(self):
        """The instance's log file text ("" when not yet written)."""
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_mark(self):
        """An offset into log(); pass it as wait_log(since=...)."""
        return len(self.log())

    def log_tail(self, lines=40):
        """The last LINES lines of the log."""
        return "\n".join(self.log().splitlines()[-lines:])

    def wait_log(self, regex, timeout=10, since=0):
        """Wait until REGEX (multi-line mode) matches log()[since:]; return
        the match. Raises AssertionError with the log tail on timeout."""
        pattern = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.log(), since)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"log never matched {regex!r} within "
                                     f"{timeout}s{self._context()}")
            time.sleep(0.05)

    # --- mail -------------------------------------------------------------

    def send_mail(self, sender="sender@example.com",
                  recipients=("user@mail.example.com",), message=None,
                  subject="test", body="test message\n", headers=None,
                  helo="client.example", port=None, host="127.0.0.1",
                  timeout=30):
        """One SMTP transaction with smtplib; returns a SendResult.

        MESSAGE (str/bytes) is sent as is; otherwise one is built from
        SUBJECT, BODY and HEADERS (dict). DATA is sent only when at least
        one recipient was accepted. Rejections are returned, not raised.
        """
        if isinstance(recipients, str):
            recipients = [recipients]
        if message is None:
            hdrs = {"From": f"<{sender}>", "To": ", ".join(f"<{r}>" for r in recipients),
                    "Subject": subject, "Date": email.utils.formatdate(),
                    "Message-ID": email.utils.make_msgid(domain="client.example")}
            hdrs.update(headers or {})
            message = "".join(f"{k}: {v}\n" for k, v in hdrs.items()) + "\n" + body
        if isinstance(message, str):
            message = message.encode("utf-8")
        res = SendResult()
        smtp = smtplib.SMTP(timeout=timeout)
        try:
            res.banner = _reply(smtp.connect(host, port or self.smtp_port))
            res.ehlo = _reply(smtp.ehlo(helo))
            res.mail = _reply(smtp.mail(sender))
            if res.mail[0] == 250:
                res.rcpt = [_reply(smtp.rcpt(r)) for r in recipients]
                if any(code in (250, 251) for code, _ in res.rcpt):
                    res.data = _reply(smtp.data(message))
                    m = re.search(r"queued as (\S+)", res.data[1])
                    res.queue_id = m.group(1) if m else None
            smtp.quit()
        finally:
            smtp.close()
        return res

    def smtp(self, helo="client.example", port=None, host="127.0.0.1", timeout=30):
        """An smtplib.SMTP connected to the instance after EHLO (caller quits)."""
        smtp = smtplib.SMTP(timeout=timeout)
        smtp.connect(host, port or self.smtp_port)
        smtp.ehlo(helo)
        return smtp

    def queue_files(self):
        """Files in the queue directories that hold undelivered mail."""
        found = []
        for sub in QUEUE_SUBDIRS:
            for dirpath, _, files in os.walk(os.path.join(self.queue_dir, sub)):
                found += [os.path.join(dirpath, f) for f in files]
        return sorted(found)

    def wait_queue_empty(self, timeout=30):
        """Wait until incoming, active, deferred, hold and maildrop are empty."""
        deadline = time.monotonic() + timeout
        while True:
            files = self.queue_files()
            if not files:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"queue not empty after {timeout}s: {files}"
                                     f"{self._context()}")
            time.sleep(0.1)

    def queue_ids(self, queue="incoming"):
        """Queue IDs of the complete (mode 0700) files in QUEUE, sorted."""
        ids = []
        for dirpath, _, files in os.walk(os.path.join(self.queue_dir, queue)):
            for name in files:
                st = os.stat(os.path.join(dirpath, name))
                if st.st_mode & 0o700 == 0o700:
                    ids.append(name)
        return sorted(ids)

    def wait_queued(self, count, queue="incoming", timeout=15):
        """Wait until QUEUE holds COUNT complete files; return their IDs."""
        deadline = time.monotonic() + timeout
        while True:
            ids = self.queue_ids(queue)
            if len(ids) >= count:
                return ids
            if time.monotonic() > deadline:
                raise AssertionError(f"{queue}/ has {len(ids)} complete files, not {count}, "
                                     f"after {timeout}s{self._context()}")
            time.sleep(0.05)

    def postcat(self, queue_id, *flags):
        """`postcat -q QUEUE_ID` (plus FLAGS) output; raises on failure."""
        return self.run("postcat", *flags, "-q", queue_id, check=True).stdout

    def cleanup_submit(self, sender, recipients, content, flags=None, attrs=None,
                       fullname=None, timeout=15):
        """Send one message straight to public/cleanup, as smtpd or pickup
        would (docs/queue-file.md, "The cleanup protocol").

        CONTENT (str/bytes) is split into lines; ATTRS (dict) become named
        attributes (default: rewrite_context=local). FLAGS defaults to the
        flags of a normal external client. Returns a dict with queue_id,
        status (int) and reason (str).
        """
        if flags is None:
            flags = CLEANUP_FLAG_MASK_EXTERNAL
        if attrs is None:
            attrs = {"rewrite_context": "local"}
        if isinstance(content, str):
            content = content.encode("utf-8")
        out = [encode_record("f", str(flags))]
        if fullname is not None:
            out.append(encode_record("F", fullname))
        out.append(encode_record("S", sender))
        out += [encode_record("A", f"{k}={v}") for k, v in attrs.items()]
        out += [encode_record("R", r) for r in recipients]
        out.append(encode_record("M", b""))
        lines = content.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        out += [encode_record("N", line.rstrip(b"\r")) for line in lines]
        out += [encode_record("X", b""), encode_record("E", b"")]
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(os.path.join(self.queue_dir, "public", "cleanup"))
            reader = sock.makefile("rb")
            hello = _read_attrs(reader)
            sock.sendall(b"".join(out))
            reply = _read_attrs(reader)
        finally:
            sock.close()
        return {"queue_id": hello.get("queue_id"), "status": int(reply.get("status", "-1")),
                "reason": reply.get("reason", "")}

    read_maildir = staticmethod(lambda path: read_maildir(path))
    read_mbox = staticmethod(lambda path: read_mbox(path))


# cleanup_user.h request flags.
CLEANUP_FLAG_BOUNCE = 1 << 0
CLEANUP_FLAG_FILTER = 1 << 1
CLEANUP_FLAG_BCC_OK = 1 << 4
CLEANUP_FLAG_MAP_OK = 1 << 5
CLEANUP_FLAG_EXTRACT = 1 << 6
CLEANUP_FLAG_MASK_EXTERNAL = CLEANUP_FLAG_FILTER | CLEANUP_FLAG_BCC_OK | CLEANUP_FLAG_MAP_OK


def encode_record(rtype, data=b""):
    """One queue-file record: type byte, base-128 length (low group first), data."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    n, length = len(data), bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        length.append(byte | (0x80 if n else 0))
        if not n:
            break
    return rtype.encode() + bytes(length) + data


def decode_records(data, offsets=False):
    """[(type, bytes), ...] from record bytes, or [(offset, type, bytes),
    ...] with OFFSETS; ValueError when malformed."""
    records, pos = [], 0
    while pos < len(data):
        start = pos
        rtype, pos = chr(data[pos]), pos + 1
        n = shift = 0
        while True:
            if pos >= len(data) or shift > 28:
                raise ValueError(f"bad record length at offset {pos}")
            byte, pos = data[pos], pos + 1
            n |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if pos + n > len(data):
            raise ValueError(f"truncated record at offset {pos}")
        records.append((start, rtype, data[pos:pos + n]) if offsets else (rtype, data[pos:pos + n]))
        pos += n
    return records


def _read_attrs(reader):
    """One attr.h message: name NUL value NUL ... NUL; returns a dict."""
    attrs = {}
    while True:
        name = _read_nul(reader)
        if name == b"":
            return attrs
        attrs[name.decode()] = _read_nul(reader).decode("utf-8", "surrogateescape")


def _read_nul(reader):
    buf = bytearray()
    while True:
        ch = reader.read(1)
        if not ch:
            raise AssertionError("cleanup closed the connection mid-reply")
        if ch == b"\0":
            return bytes(buf)
        buf += ch


def read_maildir(path):
    """Messages (bytes) in maildir PATH's new/ and cur/, sorted by file name
    (which starts with the delivery time). [] when PATH does not exist."""
    entries = []
    for sub in ("new", "cur"):
        d = os.path.join(str(path), sub)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            full = os.path.join(d, name)
            if os.path.isfile(full):
                entries.append((name.split(":", 1)[0], full))
    messages = []
    for _, full in sorted(entries):
        with open(full, "rb") as f:
            messages.append(f.read())
    return messages


def read_mbox(path):
    """Messages (bytes) in mbox file PATH, split before each "From " line.

    Each message keeps its From_ line and everything up to the next one
    (including the empty line that ends it). [] when PATH does not exist;
    ValueError when the file does not start with a From_ line.
    """
    try:
        with open(str(path), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    if not data:
        return []
    if not data.startswith(b"From "):
        raise ValueError(f"{path}: not an mbox file (no leading From_ line)")
    starts = [0] + [m.start() + 1 for m in re.finditer(rb"\nFrom ", data)]
    return [data[a:b] for a, b in zip(starts, starts[1:] + [len(data)])]


_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MON = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# Short queue IDs are upper-case hex; long ones (enable_long_queue_ids) are
# base-52 without vowels, a "z", then the inode number.
_LONG_CH = "0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y"
_QID = rf"(?:[0-9A-F]{{6,16}}|[{_LONG_CH}]{{6,}}z[{_LONG_CH}]+)"
_DATES = [
    # RFC 5322: "Mon, 21 Nov 2022 13:57:00 +0000 (UTC)"
    re.compile(rf"(?:{_DAY}, )?\d{{1,2}} {_MON} \d{{4}} \d\d:\d\d(?::\d\d)?"
               r" [+-]\d{4}(?: \([A-Za-z0-9+-]+\))?"),
    # ctime, as in mbox From_ lines: "Mon Nov 21 13:57:00 2022"
    re.compile(rf"{_DAY} {_MON} [ \d]\d \d\d:\d\d:\d\d \d{{4}}"),
    # ISO 8601
    re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"),
    # syslog / maillog_file: "Nov 21 13:57:00"
    re.compile(rf"{_MON} [ \d]\d \d\d:\d\d:\d\d"),
]
_PIDS = [
    (re.compile(r"(?<=[\w-]\[)\d+(?=\])"), "PID"),          # postfix/smtpd[123]
    (re.compile(r"\b(PID:? )\d+\b"), r"\1PID"),             # status: "PID: 123"
    (re.compile(r"\b(pid )\d+\b"), r"\1PID"),               # "process X pid 123"
]
_QIDS = [
    re.compile(rf"(?<![\w-]){_QID}(?=: )"),                 # "5FA26B3DFE: to=<...>"
    re.compile(rf"(?<=queued as ){_QID}\b"),
    re.compile(rf"(?<=forwarded as ){_QID}\b"),
    re.compile(rf"(?<=\bid ){_QID}\b"),                     # Received: ... id QID
]


def normalise(text, numbered=False):
    """Replace dates by DATE, PIDs by PID and queue IDs by QUEUEID.

    With numbered=True each distinct queue ID becomes QUEUEID1, QUEUEID2, ...
    in order of first appearance, so tests can still see that two lines
    name the same message. Accepts str or bytes and returns the same type.
    """
    is_bytes = isinstance(text, bytes)
    if is_bytes:
        text = text.decode("utf-8", "surrogateescape")
    for pattern in _DATES:
        text = pattern.sub("DATE", text)
    for pattern, repl in _PIDS:
        text = pattern.sub(repl, text)
    ids = {}

    def qid(m):
        if not numbered:
            return "QUEUEID"
        return "QUEUEID%d" % ids.setdefault(m.group(0), len(ids) + 1)

    # One combined pass, so numbering follows the order in the text.
    combined = re.compile("|".join(f"(?:{p.pattern})" for p in _QIDS))
    text = combined.sub(qid, text)
    if is_bytes:
        text = text.encode("utf-8", "surrogateescape")
    return text
