"""Shared parts of the benchmarks (bench/run, bench/relay, bench/submit,
bench/deliver, bench/tables): where things are, the scratch instances of
both systems, the load sinks, and what a system costs (CPU and memory).

    TOP, SMTP_SOURCE, SMTP_SINK, POSTFIX       paths
    need_root(prog), need_programs(prog, paths)  exit with a clear message
    build_dir(opt), postern_module(build)      Postern's harness (tests/e2e/postern.py)
    Sink(port)                   Debian smtp-sink -c; .mesg, .wait(n, timeout)
    SmartSink(load, port, pct4, pct5)   bench/tls-load.c sink in plaintext smart mode
    build_tls_load(build)        compile bench/tls-load.c into BUILD/bench/tls-load
    PostfixRelay(work, params), PosternRelay(build, params)
                                 complete stock instances (smtpd, qmgr, smtp, local)
    PostfixSubmit(work), PosternSubmit(build)   pickup+cleanup-only instances
    message(size), complete_files(qdir), empty_queue(qdir), qmgr_sink(qdir, owner),
    submit_all(...)              the sendmail submitters of bench/submit
    queue_files(qdir)            files in the queues that hold undelivered mail
    master_tree(pid)             the master and all its descendants (PIDs)
    Meter(name)                  CPU seconds and peak memory of one system

Errors: sys.exit() with a message naming the benchmark, or AssertionError
from the instance helpers (with the command output and the log tail).
"""

import os
import re
import shutil
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"
POSTFIX = "/usr/sbin/postfix"
PROG = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "bench"


def need_root():
    """Exit unless root: Debian's Postfix starts only as root."""
    if os.geteuid() != 0:
        sys.exit(f"bench/{PROG}: run as root (Debian Postfix starts only as root)")


def need_programs(paths):
    """Exit naming the first of PATHS that is not executable."""
    for prog in paths:
        if not os.access(prog, os.X_OK):
            sys.exit(f"bench/{PROG}: {prog} not found (make; apt-get install postfix)")


def build_dir(opt):
    """The absolute Postern build directory for a --build option."""
    return opt if os.path.isabs(opt) else os.path.join(TOP, opt)


def postern_module(build):
    """tests/e2e/postern.py, imported with POSTERN_BUILD = BUILD."""
    os.environ["POSTERN_BUILD"] = build
    import postern  # noqa: E402 (reads POSTERN_BUILD on import)
    return postern


# --- sinks ------------------------------------------------------------------


class _CountingSink:
    """A child process printing "mesg=N" lines; .mesg = the last N;
    .replies = {code: count} of its "data=CODE" lines and, as "retry",
    the number of its "retry=250" lines (smart sink)."""

    def _start(self, argv):
        self.mesg = 0
        self.replies = {}  # smart sink: end-of-DATA replies by code
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        # smtp-sink -c redraws its counters after every event: parse each
        # chunk once (the last mesg= is the count), not line by line, so
        # the harness takes little of the CPU the systems compete for.
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(65536)
            if not chunk:
                return
            buf += chunk
            cut = max(buf.rfind(b"\r"), buf.rfind(b"\n")) + 1
            done, buf = buf[:cut], buf[cut:]
            codes = [code or retry for code, retry in re.findall(rb"(?:^|[\r\n])(?:data=(\d+)|(retry)=250)", done)]
            last = done.rfind(b"mesg=")
            m = re.match(rb"mesg=(\d+)", done[last:]) if last >= 0 else None
            if codes or m:
                with self.cond:
                    for c in codes:
                        self.replies[c.decode()] = self.replies.get(c.decode(), 0) + 1
                    if m:
                        self.mesg = max(self.mesg, int(m.group(1)))
                    self.cond.notify_all()

    def wait(self, count, timeout):
        """True once .mesg >= COUNT; False after TIMEOUT seconds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.mesg < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))
        return True

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Sink(_CountingSink):
    """Debian's smtp-sink -c on 127.0.0.1:port (accepts everything)."""

    def __init__(self, port):
        self.port = port
        self._start([SMTP_SINK, "-c", "-u", "nobody", f"127.0.0.1:{port}", "1000"])


class TlsSink(_CountingSink):
    """bench/tls-load.c's sink offering STARTTLS with CERT (tlscerts.Cert)."""

    def __init__(self, load, port, cert):
        self.port = port
        self._start([load, "sink", "-c", cert.cert, "-k", cert.key, str(port)])


class SmartSink(_CountingSink):
    """bench/tls-load.c's sink in plaintext smart mode: PCT4 % of the new
    messages get 450 at the end of DATA, PCT5 % get 550, a message seen
    before gets 250 (greylisting; see tls-load.c); bounces (null sender)
    are always accepted."""

    def __init__(self, load, port, pct4, pct5):
        self.port = port
        self._start([load, "sink", "-4", str(pct4), "-5", str(pct5), str(port)])


def build_tls_load(build):
    """Compile bench/tls-load.c into BUILD/bench/tls-load when outdated."""
    src = os.path.join(TOP, "bench", "tls-load.c")
    out = os.path.join(build, "bench", "tls-load")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run(["cc", "-O2", "-o", out, src, "-lssl", "-lcrypto"], check=True)
    return out


# --- complete instances (relay, local delivery) -------------------------------


def queue_files(queue_dir):
    """Number of files in the queues that hold undelivered mail."""
    n = 0
    for sub in ("incoming", "active", "deferred", "hold", "maildrop"):
        for _, _, files in os.walk(os.path.join(queue_dir, sub)):
            n += len(files)
    return n


class PostfixRelay:
    """A complete stock Debian Postfix (tests/e2e/postfix_system.py)."""

    name = "postfix"

    def __init__(self, work, params, hostname="bench.example.com"):
        from postfix_system import PostfixSystem
        self.sys = PostfixSystem(work, hostname=hostname)
        self.sys.configure(params)
        self.port = self.sys.port
        self.queue_dir = self.sys.queue_dir
        self.mail_dir = self.sys.mail_dir
        self.log_file = self.sys.log_file

    def start(self):
        self.sys.start()

    def stop(self):
        self.sys.close()

    def master_pid(self):
        return self.sys._master_pid()

    def queue_empty(self):
        return self.sys.queue_empty()


def stock_instance(postern, hostname):
    """A scratch tests/e2e/postern.py Instance with the stock
    queue_spare_files and in_flow_delay instead of the test suite's."""
    inst = postern.Instance(hostname=hostname, keep=False)
    del inst.settings["queue_spare_files"]
    del inst.settings["in_flow_delay"]
    inst.write_main_cf("")
    return inst


class PosternRelay:
    """A complete stock rootless Postern (tests/e2e/postern.py Instance)."""

    name = "postern"

    def __init__(self, build, params, hostname="bench.example.com"):
        postern = postern_module(build)
        smtp = os.path.join(postern.LIBEXEC_DIR, "smtp")
        if not os.access(smtp, os.X_OK):
            sys.exit(f"bench/{PROG}: {os.path.relpath(smtp, TOP)} is not built (Postern's smtp client)")
        self.inst = stock_instance(postern, hostname)
        self.inst.update_main_cf(params)
        self.port = self.inst.smtp_port
        self.queue_dir = self.inst.queue_dir
        self.mail_dir = self.inst.mail_dir
        self.log_file = self.inst.log_file

    def start(self):
        self.inst.start()

    def stop(self):
        self.inst.close()

    def master_pid(self):
        return self.inst.master_pid()

    def queue_empty(self):
        return not self.inst.queue_files()


# --- submission instances (pickup and cleanup only) ---------------------------

SUBMIT_POSTFIX_MASTER_CF = """\
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
rewrite unix - - n - - trivial-rewrite
postlog unix-dgram n - n - 1 postlogd
"""
SUBMIT_POSTERN_MASTER_CF = """\
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
"""


def message(size):
    """A message of about SIZE bytes (bench@example.com to sink@example.net)."""
    head = "From: bench@example.com\nTo: sink@example.net\nSubject: bench\n\n"
    body_line = "x" * 71 + "\n"
    body = body_line * max(1, (size - len(head)) // len(body_line))
    return (head + body).encode()


def complete_files(queue_dir):
    """Complete (mode 0700) files under queue_dir/incoming."""
    n = 0
    for dirpath, _, files in os.walk(os.path.join(queue_dir, "incoming")):
        for name in files:
            try:
                if os.stat(os.path.join(dirpath, name)).st_mode & 0o700 == 0o700:
                    n += 1
            except FileNotFoundError:
                pass
    return n


def empty_queue(queue_dir):
    """Remove every file from incoming/ and maildrop/."""
    for sub in ("incoming", "maildrop"):
        d = os.path.join(queue_dir, sub)
        for dirpath, _, files in os.walk(d):
            for name in files:
                os.unlink(os.path.join(dirpath, name))


def qmgr_sink(queue_dir, owner):
    """A stand-in for the stopped queue manager: public/qmgr as a FIFO whose
    reader discards the wakeups cleanup sends (Postfix's cleanup otherwise
    waits a second per message for a missing qmgr)."""
    fifo = os.path.join(queue_dir, "public", "qmgr")
    if not os.path.exists(fifo):
        os.mkfifo(fifo, 0o622)
        shutil.chown(fifo, owner)
    # Opened read-write, the FIFO never reports end of file when a writer closes.
    return subprocess.Popen(["sh", "-c", 'exec cat 0<>"$1" > /dev/null', "qmgr-sink", fifo])


def submit_all(argv_for, env, msg_path, messages, clients, queue_dir, user=None, preexec_fn=None):
    """Run CLIENTS submitters (sendmail in a shell loop); return seconds
    until incoming/ holds MESSAGES complete files. PREEXEC_FN runs in each
    submitter before exec (bench/run: join the system's cgroup)."""
    per = [messages // clients + (1 if i < messages % clients else 0) for i in range(clients)]
    # sh -c SCRIPT submit COUNT SENDMAIL-ARGV...: COUNT submissions in a row.
    script = 'n=$1; shift; for i in $(seq 1 "$n"); do "$@" < "$MSG" || exit 1; done'
    started = time.monotonic()
    procs = []
    for count in per:
        if count == 0:
            continue
        argv = ["sh", "-c", script, "submit", str(count)] + argv_for()
        if user is not None:
            argv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"] + argv
        procs.append(subprocess.Popen(argv, env=dict(env, MSG=msg_path), stderr=subprocess.PIPE,
                                      preexec_fn=preexec_fn))
    failed = [p for p in procs if p.wait() != 0]
    if failed:
        sys.exit(f"bench/{PROG}: a submitter failed: {failed[0].stderr.read().decode(errors='replace')}")
    deadline = time.monotonic() + 300
    while complete_files(queue_dir) < messages:
        if time.monotonic() > deadline:
            sys.exit(f"bench/{PROG}: only {complete_files(queue_dir)} of {messages} messages queued")
        time.sleep(0.01)
    return time.monotonic() - started


class PostfixSubmit:
    """A scratch Debian Postfix instance for local submission (started as root)."""

    name = "postfix"

    def __init__(self, work):
        self.root = os.path.join(work, "postfix-submit")
        self.conf = os.path.join(self.root, "etc")
        self.queue_dir = os.path.join(self.root, "queue")
        os.makedirs(self.conf)
        os.makedirs(self.queue_dir)
        data = os.path.join(self.root, "data")
        os.makedirs(data)
        shutil.chown(data, "postfix", "postfix")
        self.log_file = os.path.join(self.root, "maillog")
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(f"compatibility_level = 3.6\nqueue_directory = {self.queue_dir}\n"
                    f"data_directory = {data}\nmyhostname = bench.example.com\n"
                    f"inet_interfaces = loopback-only\ninet_protocols = ipv4\n"
                    f"maillog_file = {self.log_file}\nmaillog_file_prefixes = {self.root}\n"
                    f"alias_maps =\nalias_database =\nbiff = no\n"
                    # Without a queue manager handing out flow-control
                    # tokens, Postfix's cleanup would wait this long per message.
                    f"in_flow_delay = 0\n")
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(SUBMIT_POSTFIX_MASTER_CF)
        past = time.time() - 120
        os.utime(os.path.join(self.conf, "main.cf"), (past, past))
        self.env = dict(os.environ, MAIL_CONFIG=self.conf, LC_ALL="C")
        self.user = None
        self.owner = "postfix"

    def start(self):
        subprocess.run([POSTFIX, "-c", self.conf, "start"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        subprocess.run([POSTFIX, "-c", self.conf, "stop"], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def close(self):
        self.stop()

    def master_pid(self):
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def sendmail(self):
        return ["/usr/sbin/sendmail", "-C", self.conf, "-f", "bench@example.com", "sink@example.net"]


class PosternSubmit:
    """A scratch rootless Postern instance for local submission."""

    name = "postern"

    def __init__(self, build):
        postern = postern_module(build)
        self.inst = stock_instance(postern, "bench.example.com")
        self.inst.write_master_cf(SUBMIT_POSTERN_MASTER_CF)
        self.inst.update_main_cf({"in_flow_delay": "0"})
        self.queue_dir = self.inst.queue_dir
        self.log_file = self.inst.log_file
        self.env = dict(os.environ, LC_ALL="C")
        self.user = self.inst.user  # a pwd entry when running as root, else None
        self.owner = self.user.pw_name if self.user else None

    def start(self):
        self.inst.start()

    def stop(self):
        self.inst.stop()

    def close(self):
        self.inst.close()

    def master_pid(self):
        return self.inst.master_pid()

    def sendmail(self):
        return [self.inst.program("sendmail"), "-C", self.inst.config_dir,
                "-f", "bench@example.com", "sink@example.net"]


# --- what a system costs -------------------------------------------------------


def _proc_stat(pid):
    """(ppid, utime+stime+cutime+cstime ticks, rss pages) of PID, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # fields[0] is the state (field 3); utime is field 14, rss field 24.
    return int(fields[1]), sum(int(x) for x in fields[11:15]), int(fields[21])


def master_tree(pid):
    """PID and all its live descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _proc_stat(int(entry))
            if st:
                children.setdefault(st[0], []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _own_cgroup(controller):
    """This process's cgroup path under CONTROLLER (v1), or under the
    unified hierarchy ("" for cgroup2)."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if controller in ctrls.split(",") or (controller == "" and ctrls == ""):
                return path
    return None


def _remove_stale(parent):
    """Remove empty cgroups of earlier runs (postern-bench-*-PID, PID gone)
    that were killed before they could clean up."""
    for entry in os.listdir(parent):
        m = re.fullmatch(r"postern-bench-.*-(\d+)", entry)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            try:
                os.rmdir(os.path.join(parent, entry))
            except OSError:
                pass  # still has processes: leave it


class Meter:
    """CPU seconds and peak memory of one system: the master and every
    process it starts, exited ones included (never the load generator).

    Methods, the first that works: "cgroup v1" (a child cgroup of ours in
    the cpuacct and memory hierarchies: cpuacct.usage; memory.stat),
    "cgroup v2" (cpu.stat usage_usec; memory.stat), "/proc" (the master's
    own, children's waited-for and live descendants' times; summed RSS).
    attach(pid) moves the master and its live descendants into the cgroup;
    everything they fork later inherits it. begin() and end() bracket a
    scenario: end() returns (cpu_seconds, peak_bytes, cache_peak_bytes).
    Peak memory is sampled every 50 ms: resident process memory (anonymous
    plus mapped file pages; the page cache of written files excluded), and
    cache_peak_bytes the kernel's peak including the page cache
    (memory.max_usage_in_bytes / memory.peak; None under /proc).
    """

    def __init__(self, name):
        self.name = name
        self.dirs = {}
        self.method = "/proc"
        self.pid = None
        tag = f"postern-bench-{name}-{os.getpid()}"
        if os.environ.get("BENCH_NO_CGROUP"):
            return  # forced /proc accounting (bench/README.md)
        for attempt in (self._try_v1, self._try_v2):
            try:
                if attempt(tag):
                    return
            except OSError:
                self.close()
                self.dirs = {}

    def _try_v1(self, tag):
        dirs = {}
        for ctrl in ("cpuacct", "memory"):
            own = _own_cgroup(ctrl)
            base = f"/sys/fs/cgroup/{ctrl}"
            if own is None or not os.path.isdir(base) or not os.path.exists(f"{base}/cgroup.procs"):
                return False
            d = os.path.join(base + own, tag)
            _remove_stale(os.path.dirname(d))
            os.mkdir(d)
            dirs[ctrl] = d
            self.dirs = dirs
        self.method = "cgroup v1"
        return True

    def _try_v2(self, tag):
        base = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
        own = _own_cgroup("")
        if own is None or not os.path.exists(f"{base}/cgroup.procs"):
            return False
        d = os.path.join(base + own, tag)
        _remove_stale(os.path.dirname(d))
        os.mkdir(d)
        self.dirs = {"v2": d}
        if not os.path.exists(os.path.join(d, "memory.stat")):
            self.close()
            self.dirs = {}
            return False
        self.method = "cgroup v2"
        return True

    def _write(self, ctrl, name, value):
        with open(os.path.join(self.dirs[ctrl], name), "w") as f:
            f.write(str(value))

    def _read(self, ctrl, name):
        with open(os.path.join(self.dirs[ctrl], name)) as f:
            return f.read()

    def join(self):
        """preexec_fn: put the calling (child) process into the cgroup."""
        for ctrl in self.dirs:
            self._write(ctrl, "cgroup.procs", os.getpid())

    def attach(self, pid):
        """Move master PID and its live descendants into the cgroup."""
        self.pid = pid
        for p in master_tree(pid):
            for ctrl in self.dirs:
                try:
                    self._write(ctrl, "cgroup.procs", p)
                except OSError:
                    pass  # exited meanwhile

    def cpu(self):
        """CPU seconds so far (cgroup) or of the live tree and its waited children."""
        if "cpuacct" in self.dirs:
            return int(self._read("cpuacct", "cpuacct.usage")) / 1e9
        if "v2" in self.dirs:
            m = re.search(r"usage_usec (\d+)", self._read("v2", "cpu.stat"))
            return int(m.group(1)) / 1e6
        ticks = 0
        for p in master_tree(self.pid) if self.pid else []:
            st = _proc_stat(p)
            if st:
                ticks += st[1]
        return ticks / os.sysconf("SC_CLK_TCK")

    def resident(self):
        """Resident process memory now, bytes."""
        if self.dirs:
            stat = self._read("memory" if "memory" in self.dirs else "v2", "memory.stat")
            vals = dict(line.split() for line in stat.splitlines() if line.count(" ") == 1)
            if "memory" in self.dirs:
                return int(vals.get("total_rss", vals.get("rss", 0))) + \
                    int(vals.get("total_mapped_file", vals.get("mapped_file", 0)))
            return int(vals.get("anon", 0)) + int(vals.get("file_mapped", 0))
        pages = 0
        for p in master_tree(self.pid) if self.pid else []:
            st = _proc_stat(p)
            if st:
                pages += st[2]
        return pages * os.sysconf("SC_PAGE_SIZE")

    def _sample(self):
        while not self._stop.wait(0.05):
            try:
                self._peak = max(self._peak, self.resident())
            except OSError:
                pass

    def begin(self):
        if "memory" in self.dirs:
            self._write("memory", "memory.max_usage_in_bytes", 0)
        self._cpu0 = self.cpu()
        self._peak = self.resident()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def end(self):
        cpu = self.cpu() - self._cpu0
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self.resident())
        cache_peak = None
        if "memory" in self.dirs:
            cache_peak = int(self._read("memory", "memory.max_usage_in_bytes"))
        elif "v2" in self.dirs and os.path.exists(os.path.join(self.dirs["v2"], "memory.peak")):
            cache_peak = int(self._read("v2", "memory.peak"))
        return cpu, self._peak, cache_peak

    def close(self):
        """Remove the cgroup (its processes must have exited; left over
        processes move back to our own cgroup first)."""
        for ctrl, d in list(self.dirs.items()):
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    pids = f.read().split()
                parent = os.path.dirname(d)
                for p in pids:
                    try:
                        with open(os.path.join(parent, "cgroup.procs"), "w") as f:
                            f.write(p)
                    except OSError:
                        pass
                os.rmdir(d)
            except OSError:
                pass
