"""A small scriptable policy server (SMTPD_POLICY_README protocol,
spec/smtpd.md section 10) for end-to-end tests of check_policy_service.

    with PolicyServer(unix_path=path) as pd:        # or PolicyServer() for TCP
        pd.replies = ["REJECT no thanks"]           # one action per request, in order
        pd.default = "DUNNO"                        # once the script is used up
        ... main.cf: check_policy_service unix:PATH  (or pd.endpoint)
        pd.requests                                 # every request: dict name -> value
        pd.raw                                      # and each as its exact lines

Script entries are an action text (sent as "action=TEXT" + empty line),
a callable request-dict -> action text, or one of CLOSE (drop the
connection without answering), GARBAGE (a malformed reply) and
SILENT (never answer; the client times out). pd.connections counts
accepted connections. A thread per connection; server.close() stops it.
"""

import os
import socket
import threading
import time

CLOSE = object()
GARBAGE = object()
SILENT = object()


class PolicyServer:
    def __init__(self, unix_path=None, host="127.0.0.1", port=0, owner=None):
        """Listen on UNIX socket UNIX_PATH (mode 0666; chown to OWNER, a pwd
        entry, when given) or on TCP HOST:PORT (port 0: any free port)."""
        self.replies = []
        self.default = "DUNNO"
        self.requests = []
        self.raw = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns = []
        if unix_path:
            try:
                os.unlink(unix_path)
            except FileNotFoundError:
                pass
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(unix_path)
            os.chmod(unix_path, 0o666)
            if owner is not None:
                os.chown(unix_path, owner.pw_uid, owner.pw_gid)
            self.endpoint = f"unix:{unix_path}"
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((host, port))
            self.endpoint = f"inet:{host}:{self.sock.getsockname()[1]}"
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        for c in list(self._conns):
            try:
                c.close()
            except OSError:
                pass

    def wait_requests(self, count, timeout=10):
        """Wait until COUNT requests arrived; return the list of requests."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"policy server got {len(self.requests)} of {count} "
                                     f"requests: {self.raw}")
            time.sleep(0.02)
        return self.requests

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _next(self, request):
        with self._lock:
            self.requests.append(request[0])
            self.raw.append(request[1])
            n = len(self.requests) - 1
            step = self.replies[n] if n < len(self.replies) else self.default
        return step(request[0]) if callable(step) else step

    def _serve(self, conn):
        f = conn.makefile("rb")
        try:
            while True:
                lines, attrs = [], {}
                while True:
                    line = f.readline()
                    if not line:
                        return
                    line = line.decode("utf-8", "surrogateescape").rstrip("\n")
                    if line == "":
                        break
                    lines.append(line)
                    name, _, value = line.partition("=")
                    attrs[name] = value
                step = self._next((attrs, lines))
                if step is CLOSE:
                    return
                if step is SILENT:
                    self._stop.wait()
                    return
                if step is GARBAGE:
                    conn.sendall(b"this is not a reply\n\n")
                    continue
                conn.sendall(f"action={step}\n\n".encode())
        except OSError:
            return
        finally:
            f.close()
            conn.close()
            with self._lock:
                if conn in self._conns:
                    self._conns.remove(conn)
