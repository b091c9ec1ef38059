"""A scripted Dovecot-protocol auth server (the "auth client" side of
Dovecot's auth service, spec/security.md 5.1) on a UNIX socket, for the
SASL tests of the SMTP server (smtpd_sasl_type = dovecot).

    srv = AuthServer(path, users={"alice": "secret"},
                     mechs=(("PLAIN", "plaintext"), ("LOGIN", "plaintext")))
    srv.start()                 listen (socket mode 0666); returns self
    srv.requests                every AUTH request seen, as dicts:
                                {"id", "mech", "service", "resp", "secured",
                                 "lip", "rip", "nologin", "raw"}
    srv.handshakes              the client's handshake lines (VERSION, CPID)
    srv.kill()                  stop at once: close the listener and every
                                open connection (a crashed auth server)
    srv.stop()                  the same, for the end of a test
    with AuthServer(...) as srv: ...

Mechanisms: PLAIN and LOGIN (with and without an initial response),
CRAM-MD5 (HMAC-MD5 over the challenge), ANONYMOUS (any trace, user
"anonymous"); other names in MECH lines are announced but fail with
"Unsupported authentication mechanism". A wrong password fails with
reason=Authentication failed and user=NAME, as Dovecot does; malformed
base64 fails with reason=Invalid base64 data. The server speaks
protocol VERSION 1 2, then MECH lines, SPID, CUID, COOKIE, DONE.

Errors: none raised to the client; a bad request line gets FAIL.
"""
import base64
import binascii
import hashlib
import hmac
import os
import socket
import threading
import time

DEFAULT_MECHS = (("PLAIN", "plaintext"), ("LOGIN", "plaintext"))


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def unb64(text):
    """Strict base64 decode; None when malformed."""
    try:
        return base64.b64decode(text.encode(), validate=True)
    except (binascii.Error, ValueError):
        return None


class _Session:
    """One authentication request in progress (per AUTH id)."""

    def __init__(self, mech):
        self.mech = mech
        self.step = 0
        self.user = None
        self.challenge = None


class AuthServer:
    def __init__(self, path, users=None, mechs=DEFAULT_MECHS):
        self.path = path
        self.users = dict(users if users is not None else {"alice": "secret"})
        self.mechs = tuple(mechs)
        self.requests = []
        self.handshakes = []
        self._lock = threading.Lock()
        self._conns = []
        self._listener = None
        self._thread = None
        self._stopped = threading.Event()

    # --- life cycle ----------------------------------------------------------

    def start(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        os.chmod(self.path, 0o666)
        self._listener.listen(16)
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()
        return self

    def kill(self):
        """Close the listener and every connection now."""
        self._stopped.set()
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        if os.path.exists(self.path):
            os.unlink(self.path)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    stop = kill

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()

    def wait_requests(self, count, timeout=10):
        """Wait until COUNT AUTH requests were seen; return them."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"auth server saw {len(self.requests)} requests, "
                                     f"not {count}: {self.requests}")
            time.sleep(0.02)
        return self.requests

    # --- serving -------------------------------------------------------------

    def _accept_loop(self):
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._stopped.is_set():
                    conn.close()
                    return
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            greeting = ["VERSION\t1\t2"]
            for name, *flags in self.mechs:
                greeting.append("\t".join(["MECH", name] + list(flags)))
            greeting += [f"SPID\t{os.getpid()}", "CUID\t1", "COOKIE\t" + "0" * 32, "DONE"]
            conn.sendall(("\n".join(greeting) + "\n").encode())
            sessions = {}
            buf = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, _, buf = buf.partition(b"\n")
                    out = self._handle(line.decode("utf-8", "replace"), sessions)
                    if out:
                        conn.sendall((out + "\n").encode())
        except OSError:
            return
        finally:
            conn.close()

    def _handle(self, line, sessions):
        fields = line.split("\t")
        if fields[0] in ("VERSION", "CPID"):
            self.handshakes.append(line)
            return None
        if fields[0] == "AUTH" and len(fields) >= 3:
            req = {"id": fields[1], "mech": fields[2], "raw": line, "resp": None,
                   "secured": False, "nologin": False}
            for f in fields[3:]:
                key, eq, value = f.partition("=")
                if eq:
                    req[key] = value
                else:
                    req[key] = True
            self.requests.append(req)
            names = [m[0].upper() for m in self.mechs]
            if req["mech"].upper() not in names:
                return f"FAIL\t{req['id']}\treason=Unsupported authentication mechanism"
            sess = _Session(req["mech"].upper())
            sessions[req["id"]] = sess
            return self._step(req["id"], sess, req["resp"], sessions)
        if fields[0] == "CONT" and len(fields) >= 2:
            sess = sessions.get(fields[1])
            if sess is None:
                return f"FAIL\t{fields[1]}\treason=Unknown request"
            return self._step(fields[1], sess, fields[2] if len(fields) > 2 else "", sessions)
        return None

    def _fail(self, rid, sessions, reason, user=None):
        sessions.pop(rid, None)
        out = f"FAIL\t{rid}\treason={reason}"
        if user:
            out += f"\tuser={user}"
        return out

    def _check(self, rid, sessions, user, password):
        sessions.pop(rid, None)
        if self.users.get(user) == password:
            return f"OK\t{rid}\tuser={user}"
        return self._fail(rid, sessions, "Authentication failed", user)

    def _step(self, rid, sess, resp, sessions):
        """Advance SESS with the base64 RESP (None: no initial response)."""
        data = None
        if resp is not None:
            data = unb64(resp)
            if data is None:
                return self._fail(rid, sessions, "Invalid base64 data")
        sess.step += 1
        if sess.mech == "PLAIN":
            if data is None:
                return f"CONT\t{rid}\t"
            parts = data.split(b"\0")
            if len(parts) != 3:
                return self._fail(rid, sessions, "Invalid PLAIN data")
            return self._check(rid, sessions, parts[1].decode(errors="replace"),
                               parts[2].decode(errors="replace"))
        if sess.mech == "LOGIN":
            if sess.user is None:
                if data is None:
                    return f"CONT\t{rid}\t{b64('Username:')}"
                sess.user = data.decode(errors="replace")
                return f"CONT\t{rid}\t{b64('Password:')}"
            return self._check(rid, sessions, sess.user, (data or b"").decode(errors="replace"))
        if sess.mech == "CRAM-MD5":
            if sess.challenge is None:
                sess.challenge = f"<{os.getpid()}.{time.time_ns()}@authd.test>"
                return f"CONT\t{rid}\t{b64(sess.challenge)}"
            user, _, digest = (data or b"").decode(errors="replace").rpartition(" ")
            secret = self.users.get(user)
            want = hmac.new(secret.encode(), sess.challenge.encode(), hashlib.md5).hexdigest() \
                if secret is not None else None
            sessions.pop(rid, None)
            if want is not None and hmac.compare_digest(want, digest):
                return f"OK\t{rid}\tuser={user}"
            return self._fail(rid, sessions, "Authentication failed", user or None)
        if sess.mech == "ANONYMOUS":
            sessions.pop(rid, None)
            return f"OK\t{rid}\tuser=anonymous"
        return self._fail(rid, sessions, "Unsupported authentication mechanism")
