"""A scriptable SMTP/LMTP server for the end-to-end tests of Postern's smtp
and lmtp clients (and anything else that talks SMTP to a peer).

Raw sockets and one thread per connection, so that a test controls every
byte: what is announced, what each command gets back, when the peer
stalls or hangs up, and it can see exactly which bytes arrived in which
read (to prove that a client pipelined MAIL/RCPT/DATA before any reply).

    peer = Peer(port=0, host="127.0.0.1" | unix_path=PATH, lmtp=False,
                greeting=(220, "peer.test ESMTP"), ehlo_name="peer.test",
                pipelining=True, size=None, eightbitmime=True, dsn=True,
                smtputf8=False, xforward=False, chunking=False,
                keywords=(), ehlo_reply=None, mail_reply=(250, "2.1.0 Ok"),
                rcpt_replies=[(PATTERN, REPLY), ...],
                rcpt_default=(250, "2.1.5 Ok"), data_reply=(354, ...),
                eod_reply=(250, "2.0.0 Ok: queued as ..."),
                lmtp_replies=[(PATTERN, REPLY), ...] or [REPLY, ...],
                action=None, delays={}, on_message=None, timeout=60,
                auth=None, auth_users=None, auth_reply=None, auth_equals=False)
    with peer: ...            start() / stop() (idempotent, bounded)
    peer.port, peer.host, peer.unix_path, peer.nexthop ("[127.0.0.1]:PORT")
    peer.sessions             list of Session (in connection order)
    peer.messages             list of Message (complete DATA/BDAT content)
    peer.wait_messages(n, timeout), peer.wait_sessions(n, timeout)

REPLY is (code, text) where text may hold "\\n" for a multi-line reply, or
a callable (session, argument) -> (code, text) for dynamic answers.
PATTERN is a shell glob matched against the lower-cased address (without
<>), or a compiled regex (search).

action: None, "close_after_data" (hang up after the message content without
answering it), "no_eod_reply" (never answer end-of-data; keep the
connection open until the client closes it or the peer stops),
"close_after_greeting", "no_greeting" (accept and say nothing).
delays: seconds to wait before a reply, per stage: "greeting", "ehlo",
"mail", "rcpt", "data", "eod", "other".

AUTH (RFC 4954): auth="PLAIN LOGIN CRAM-MD5" announces "AUTH PLAIN LOGIN
CRAM-MD5" in the EHLO reply (auth_equals=True adds the old "AUTH=..."
line too) and runs those exchanges: PLAIN (with or without an initial
response), LOGIN (334 Username:/Password: prompts; an initial response
is the username) and CRAM-MD5 (a fresh <...@peer.test> challenge, the
HMAC-MD5 digest checked). The credentials are checked against
auth_users {user: password} (None: any login succeeds); success is "235
2.7.0 Authentication successful", failure "535 5.7.8 Error:
authentication failed: authentication failure". auth_reply, a REPLY or
callable (session, record), replaces the final reply. A "*" response
cancels (501 5.7.0). Each AUTH command is recorded in session.auth as a
dict: mechanism, initial (the initial response or None), authzid,
username, password (PLAIN/LOGIN; None for CRAM-MD5), digest (CRAM-MD5),
ok (credentials verified), code (the final reply code), and
peer.auth_logins() lists (username, password-or-digest) over all sessions.

Session: .events [("recv"|"send", bytes)], .reads() (the recv chunks),
.batches() (command lines received between two replies: the proof of
pipelining), .commands (decoded lines, in order), .ehlo_name, .xforward
(dict of the last XFORWARD attributes), .auth (AUTH exchanges, see
above), .closed (threading.Event).
Message: .mail_from, .rcpt_to (accepted recipients), .data (exact bytes
after dot-unstuffing, CRLF as sent), .raw (bytes on the wire between the
DATA reply and the final dot, inclusive), .mail_args, .rcpt_args, .helo,
.xforward, .session.

Errors: start() raises OSError when it cannot bind; protocol errors from
the client get 500/501 replies and are recorded, never raised.
"""

import base64
import fnmatch
import hashlib
import hmac
import os
import re
import socket
import threading
import time

DEFAULT_GREETING = (220, "peer.test ESMTP smtppeer")


class Message:
    """One message the peer received (see the module docstring)."""

    def __init__(self, session, mail_from, mail_args, rcpt_to, rcpt_args, data, raw):
        self.session = session
        self.mail_from = mail_from
        self.mail_args = mail_args
        self.rcpt_to = rcpt_to
        self.rcpt_args = rcpt_args
        self.data = data
        self.raw = raw
        self.helo = session.ehlo_name
        self.xforward = dict(session.xforward)

    def __repr__(self):
        return f"Message(from={self.mail_from!r}, to={self.rcpt_to!r}, {len(self.data)} bytes)"


class Session:
    """The transcript of one connection."""

    def __init__(self, peer_addr):
        self.peer_addr = peer_addr
        self.events = []
        self.commands = []
        self.ehlo_name = None
        self.ehlo_verb = None
        self.xforward = {}
        self.messages = []
        self.closed = threading.Event()
        self._lock = threading.Lock()
        self.auth = []

    def _record(self, kind, data):
        with self._lock:
            self.events.append((kind, bytes(data)))

    def reads(self):
        """The chunks as returned by each recv(), in order."""
        with self._lock:
            return [d for k, d in self.events if k == "recv"]

    def batches(self):
        """Received command lines grouped by the replies between them: each
        batch holds the lines that arrived after one reply and before the
        next. Message content (after a 354) is left out."""
        out, cur, buf = [], [], b""
        with self._lock:
            events = list(self.events)
        in_data = False
        for kind, data in events:
            if kind == "send":
                if cur:
                    out.append(cur)
                    cur = []
                if data.startswith(b"354"):
                    in_data = True
                continue
            buf += data
            while b"\n" in buf:
                line, _, buf = buf.partition(b"\n")
                text = line.rstrip(b"\r").decode("utf-8", "replace")
                if in_data:
                    if text == ".":
                        in_data = False
                    continue
                cur.append(text)
        if cur:
            out.append(cur)
        return out

    def transcript(self):
        """Readable text: C: and S: lines in arrival order."""
        lines = []
        with self._lock:
            events = list(self.events)
        for kind, data in events:
            tag = "C:" if kind == "recv" else "S:"
            for line in data.decode("utf-8", "replace").splitlines():
                lines.append(f"{tag} {line}")
        return "\n".join(lines)


def _match(pattern, addr):
    if hasattr(pattern, "search"):
        return pattern.search(addr) is not None
    return fnmatch.fnmatchcase(addr.lower(), pattern.lower())


def _parse_path(arg, keyword):
    """'FROM:<a@b> SIZE=1' -> ('a@b', ['SIZE=1']) or None when malformed."""
    m = re.match(rf"{keyword}:\s*<([^>]*)>\s*(.*)$", arg, re.I)
    if not m:
        m2 = re.match(rf"{keyword}:\s*(\S+)\s*(.*)$", arg, re.I)
        if not m2:
            return None
        return m2.group(1), m2.group(2).split()
    return m.group(1), m.group(2).split()


class _Closed(Exception):
    pass


class Peer:
    """The server; see the module docstring for the knobs."""

    def __init__(self, port=0, host="127.0.0.1", unix_path=None, lmtp=False,
                 greeting=DEFAULT_GREETING, ehlo_name="peer.test", pipelining=True,
                 size=None, eightbitmime=True, dsn=True, smtputf8=False, xforward=False,
                 chunking=False, keywords=(), ehlo_reply=None, helo_reply=None,
                 mail_reply=(250, "2.1.0 Ok"), rcpt_replies=(), rcpt_default=(250, "2.1.5 Ok"),
                 data_reply=(354, "End data with <CR><LF>.<CR><LF>"),
                 eod_reply=None, lmtp_replies=(), action=None, delays=None,
                 on_message=None, timeout=60, auth=None, auth_users=None, auth_reply=None,
                 auth_equals=False):
        self.host = host
        self.port = port
        self.unix_path = unix_path
        self.lmtp = lmtp
        self.greeting = greeting
        self.ehlo_name = ehlo_name
        kw = []
        if pipelining:
            kw.append("PIPELINING")
        if size is not None:
            kw.append(f"SIZE {size}" if size else "SIZE")
        if eightbitmime:
            kw.append("8BITMIME")
        if dsn:
            kw.append("DSN")
        if smtputf8:
            kw.append("SMTPUTF8")
        if xforward:
            kw.append("XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT")
        if chunking:
            kw.append("CHUNKING")
        kw += list(keywords)
        self.auth_mechs = auth.split() if isinstance(auth, str) else list(auth or ())
        if self.auth_mechs:
            kw.append("AUTH " + " ".join(self.auth_mechs))
            if auth_equals:
                kw.append("AUTH=" + " ".join(self.auth_mechs))
        self.auth_users = auth_users
        self.auth_reply = auth_reply
        self.keywords = kw
        self.ehlo_reply = ehlo_reply
        self.helo_reply = helo_reply
        self.mail_reply = mail_reply
        self.rcpt_replies = list(rcpt_replies)
        self.rcpt_default = rcpt_default
        self.data_reply = data_reply
        self.eod_reply = eod_reply
        self.lmtp_replies = list(lmtp_replies)
        self.action = action
        self.delays = dict(delays or {})
        self.on_message = on_message
        self.timeout = timeout
        self.sessions = []
        self.messages = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._sock = None
        self._thread = None
        self._stop = threading.Event()
        self._conns = []
        self._qcount = 0

    # --- life cycle -------------------------------------------------------

    @property
    def nexthop(self):
        """The next hop to reach this peer: [host]:port or unix:path."""
        if self.unix_path:
            return f"unix:{self.unix_path}"
        return f"[{self.host}]:{self.port}"

    def start(self):
        """Bind and listen, then serve connections in threads."""
        if self.unix_path:
            try:
                os.unlink(self.unix_path)
            except FileNotFoundError:
                pass
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(self.unix_path)
            os.chmod(self.unix_path, 0o666)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.host, self.port))
            self.port = s.getsockname()[1]
        s.listen(128)
        s.settimeout(0.2)
        self._sock = s
        self._stop.clear()
        self._thread = threading.Thread(target=self._accept_loop, name="smtppeer", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop accepting, close every connection, join the threads (<= 5s)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        with self._lock:
            conns = list(self._conns)
        for c, t in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            t.join(5)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self.unix_path:
            try:
                os.unlink(self.unix_path)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wait_messages(self, count, timeout=30):
        """Wait until COUNT messages arrived; return them. AssertionError on timeout."""
        return self._wait(lambda: len(self.messages) >= count, timeout,
                          f"{count} message(s)", lambda: list(self.messages))

    def wait_sessions(self, count, timeout=30, closed=False):
        """Wait until COUNT sessions were opened (and closed, if asked)."""
        def done():
            if len(self.sessions) < count:
                return False
            return not closed or all(s.closed.is_set() for s in self.sessions[:count])
        return self._wait(done, timeout, f"{count} session(s)", lambda: list(self.sessions))

    def _wait(self, cond, timeout, what, result):
        deadline = time.monotonic() + timeout
        with self._cond:
            while not cond():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"smtppeer: timeout waiting for {what}; sessions:\n"
                                         + "\n---\n".join(s.transcript() for s in self.sessions))
                self._cond.wait(min(left, 0.2))
            return result()

    def _notify(self):
        with self._cond:
            self._cond.notify_all()

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, addr = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sess = Session(addr)
            t = threading.Thread(target=self._serve, args=(conn, sess), daemon=True)
            with self._cond:
                self.sessions.append(sess)
                self._conns.append((conn, t))
                self._cond.notify_all()
            t.start()

    # --- protocol ---------------------------------------------------------

    def _serve(self, conn, sess):
        conn.settimeout(0.2)
        io = _Conn(conn, sess, self._stop, self.timeout)
        try:
            self._dialogue(io, sess)
        except (_Closed, OSError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass
            sess.closed.set()
            self._notify()

    def _reply(self, io, sess, stage, reply, arg=""):
        if callable(reply):
            reply = reply(sess, arg)
        delay = self.delays.get(stage, 0)
        if delay:
            if self._stop.wait(delay):
                raise _Closed()
        code, text = reply
        lines = str(text).split("\n") if text != "" else [""]
        out = "".join(f"{code}{'-' if i < len(lines) - 1 else ' '}{line}\r\n"
                      for i, line in enumerate(lines))
        io.send(out.encode("utf-8"))
        return code

    def _eod_reply(self, sess):
        with self._lock:
            self._qcount += 1
            n = self._qcount
        return self.eod_reply or (250, f"2.0.0 Ok: queued as PEER{n:04d}")

    def _rcpt_reply(self, addr):
        for pattern, reply in self.rcpt_replies:
            if _match(pattern, addr):
                return reply
        return self.rcpt_default

    def _lmtp_reply(self, index, addr, sess):
        first = self.lmtp_replies[0] if self.lmtp_replies else None
        if isinstance(first, tuple) and not isinstance(first[0], int):
            for pattern, reply in self.lmtp_replies:
                if _match(pattern, addr):
                    return reply
            return self._eod_reply(sess)
        if index < len(self.lmtp_replies):
            return self.lmtp_replies[index]
        return self._eod_reply(sess)

    def _dialogue(self, io, sess):
        if self.action == "no_greeting":
            io.wait_closed()
            return
        code = self._reply(io, sess, "greeting", self.greeting)
        if self.action == "close_after_greeting":
            return
        mail_from = None
        mail_args = []
        rcpts, rcpt_args = [], []
        while True:
            line = io.readline()
            text = line.rstrip(b"\r\n").decode("utf-8", "replace")
            sess.commands.append(text)
            verb, _, arg = text.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO", "LHLO"):
                sess.ehlo_verb = verb
                sess.ehlo_name = arg.strip()
                mail_from, rcpts, rcpt_args = None, [], []
                if (verb == "LHLO") != self.lmtp:
                    self._reply(io, sess, "ehlo", (500, "5.5.1 Error: command not recognized"))
                elif verb == "HELO":
                    self._reply(io, sess, "ehlo", self.helo_reply or (250, self.ehlo_name))
                else:
                    reply = self.ehlo_reply or (250, "\n".join([self.ehlo_name] + self.keywords))
                    self._reply(io, sess, "ehlo", reply, arg)
            elif verb == "XFORWARD":
                for item in arg.split():
                    k, _, v = item.partition("=")
                    sess.xforward[k.upper()] = v
                self._reply(io, sess, "other", (250, "2.0.0 Ok"))
            elif verb == "AUTH" and self.auth_mechs:
                self._auth(io, sess, arg)
            elif verb == "MAIL":
                parsed = _parse_path(arg, "FROM")
                if parsed is None:
                    self._reply(io, sess, "mail", (501, "5.5.4 Syntax: MAIL FROM:<address>"))
                    continue
                code = self._reply(io, sess, "mail", self.mail_reply, parsed[0])
                if code // 100 == 2:
                    mail_from, mail_args = parsed
                    rcpts, rcpt_args = [], []
            elif verb == "RCPT":
                parsed = _parse_path(arg, "TO")
                if mail_from is None:
                    self._reply(io, sess, "rcpt", (503, "5.5.1 Error: need MAIL command"))
                elif parsed is None:
                    self._reply(io, sess, "rcpt", (501, "5.5.4 Syntax: RCPT TO:<address>"))
                else:
                    code = self._reply(io, sess, "rcpt", self._rcpt_reply(parsed[0]), parsed[0])
                    if code // 100 == 2:
                        rcpts.append(parsed[0])
                        rcpt_args.append(parsed[1])
            elif verb == "DATA":
                if mail_from is None or not rcpts:
                    self._reply(io, sess, "data", (503 if mail_from is None else 554,
                                                   "5.5.1 Error: need RCPT command"
                                                   if mail_from is None else "5.5.1 Error: no valid recipients"))
                    continue
                code = self._reply(io, sess, "data", self.data_reply)
                if code != 354:
                    continue
                raw = io.read_until_dot()
                data = _unstuff(raw)
                self._got_message(io, sess, mail_from, mail_args, rcpts, rcpt_args, data, raw)
                mail_from, rcpts, rcpt_args = None, [], []
            elif verb == "BDAT":
                parts = arg.split()
                try:
                    n = int(parts[0])
                except (IndexError, ValueError):
                    self._reply(io, sess, "data", (501, "5.5.4 Syntax: BDAT count [LAST]"))
                    continue
                chunk = io.read_exact(n)
                sess._bdat = getattr(sess, "_bdat", b"") + chunk
                if len(parts) > 1 and parts[1].upper() == "LAST":
                    data, sess._bdat = sess._bdat, b""
                    if mail_from is None or not rcpts:
                        self._reply(io, sess, "data", (503, "5.5.1 Error: need RCPT command"))
                        continue
                    self._got_message(io, sess, mail_from, mail_args, rcpts, rcpt_args, data, data)
                    mail_from, rcpts, rcpt_args = None, [], []
                else:
                    self._reply(io, sess, "data", (250, f"2.0.0 {n} bytes received"))
            elif verb == "RSET":
                mail_from, rcpts, rcpt_args = None, [], []
                self._reply(io, sess, "other", (250, "2.0.0 Ok"))
            elif verb == "NOOP":
                self._reply(io, sess, "other", (250, "2.0.0 Ok"))
            elif verb == "QUIT":
                self._reply(io, sess, "other", (221, "2.0.0 Bye"))
                return
            else:
                self._reply(io, sess, "other", (502, "5.5.2 Error: command not recognized"))

    # --- AUTH (see the module docstring) ---------------------------------

    def auth_logins(self):
        """(username, password or CRAM-MD5 digest) of every AUTH, in order."""
        return [(a["username"], a["password"] if a["password"] is not None else a["digest"])
                for s in list(self.sessions) for a in list(s.auth)]

    def _auth_line(self, io, sess, challenge):
        """Send a 334 challenge (text, base64-encoded here); the client's
        decoded answer, or None when it cancelled or sent bad base64."""
        io.send(b"334 " + base64.b64encode(challenge.encode()) + b"\r\n")
        line = io.readline().rstrip(b"\r\n").decode("ascii", "replace")
        sess.commands.append(line)
        if line == "*":
            return None
        try:
            return base64.b64decode(line, validate=True).decode("utf-8", "replace")
        except ValueError:
            return None

    def _auth(self, io, sess, arg):
        mech, _, initial = arg.strip().partition(" ")
        mech = mech.upper()
        initial = initial.strip() or None
        rec = {"mechanism": mech, "initial": initial, "authzid": None, "username": None,
               "password": None, "digest": None, "ok": False, "code": None}
        sess.auth.append(rec)
        if mech not in [m.upper() for m in self.auth_mechs]:
            rec["code"] = self._reply(io, sess, "other", (504, "5.5.4 Unsupported authentication mechanism"))
            return

        def decode(text):
            if text == "=":
                return ""
            try:
                return base64.b64decode(text, validate=True).decode("utf-8", "replace")
            except ValueError:
                return None

        if mech == "PLAIN":
            data = decode(initial) if initial is not None else self._auth_line(io, sess, "")
            parts = data.split("\0") if data is not None else []
            if len(parts) != 3:
                rec["code"] = self._reply(io, sess, "other", (501, "5.7.0 Authentication aborted"))
                return
            rec["authzid"], rec["username"], rec["password"] = parts
            rec["ok"] = self._auth_check(parts[1], password=parts[2])
        elif mech == "LOGIN":
            user = decode(initial) if initial is not None else self._auth_line(io, sess, "Username:")
            password = self._auth_line(io, sess, "Password:") if user is not None else None
            if password is None:
                rec["code"] = self._reply(io, sess, "other", (501, "5.7.0 Authentication aborted"))
                return
            rec["username"], rec["password"] = user, password
            rec["ok"] = self._auth_check(user, password=password)
        elif mech == "CRAM-MD5":
            challenge = f"<{os.getpid()}.{time.time_ns()}@{self.ehlo_name}>"
            answer = self._auth_line(io, sess, challenge)
            user, _, digest = (answer or "").rpartition(" ")
            if answer is None or not user:
                rec["code"] = self._reply(io, sess, "other", (501, "5.7.0 Authentication aborted"))
                return
            rec["username"], rec["digest"] = user, digest
            rec["ok"] = self._auth_check(user, challenge=challenge, digest=digest)
        else:
            rec["code"] = self._reply(io, sess, "other", (504, "5.5.4 Unsupported authentication mechanism"))
            return
        reply = self.auth_reply
        if callable(reply):
            reply = reply(sess, rec)
        if reply is None:
            reply = ((235, "2.7.0 Authentication successful") if rec["ok"]
                     else (535, "5.7.8 Error: authentication failed: authentication failure"))
        rec["code"] = self._reply(io, sess, "other", reply)

    def _auth_check(self, user, password=None, challenge=None, digest=None):
        if self.auth_users is None:
            return True
        secret = self.auth_users.get(user)
        if secret is None:
            return False
        if challenge is not None:
            want = hmac.new(secret.encode(), challenge.encode(), hashlib.md5).hexdigest()
            return hmac.compare_digest(want, digest.lower())
        return secret == password

    def _got_message(self, io, sess, mail_from, mail_args, rcpts, rcpt_args, data, raw):
        msg = Message(sess, mail_from, mail_args, list(rcpts), list(rcpt_args), data, raw)
        if self.action == "close_after_data":
            self._store(sess, msg)
            raise _Closed()
        if self.action == "no_eod_reply":
            self._store(sess, msg)
            io.wait_closed()
            raise _Closed()
        replies = None
        if self.on_message is not None:
            replies = self.on_message(msg)
        if self.lmtp:
            if replies is None:
                replies = [self._lmtp_reply(i, r, sess) for i, r in enumerate(rcpts)]
            ok = False
            for r in replies:
                ok |= self._reply(io, sess, "eod", r) // 100 == 2
        else:
            code = self._reply(io, sess, "eod", replies or self.eod_reply or self._eod_reply(sess))
            ok = code // 100 == 2
        if ok:
            self._store(sess, msg)

    def _store(self, sess, msg):
        with self._cond:
            sess.messages.append(msg)
            self.messages.append(msg)
            self._cond.notify_all()


def _unstuff(raw):
    """Message content from the wire form (final dot line removed)."""
    body = raw[:-3] if raw.endswith(b".\r\n") else raw
    lines = body.split(b"\n")
    return b"\n".join(l[1:] if l.startswith(b".") else l for l in lines)


class _Conn:
    """Buffered reads and recorded writes on one socket."""

    def __init__(self, sock, sess, stop, timeout):
        self.sock = sock
        self.sess = sess
        self.stop = stop
        self.timeout = timeout
        self.buf = b""

    def _fill(self):
        deadline = time.monotonic() + self.timeout
        while True:
            if self.stop.is_set():
                raise _Closed()
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                if time.monotonic() > deadline:
                    raise _Closed()
                continue
            if not chunk:
                raise _Closed()
            self.sess._record("recv", chunk)
            self.buf += chunk
            return

    def readline(self):
        while b"\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_until_dot(self):
        out = b""
        while True:
            line = self.readline()
            out += line
            if line in (b".\r\n", b".\n") and (len(out) == len(line) or out[:-len(line)].endswith(b"\n")):
                return out

    def send(self, data):
        self.sess._record("send", data)
        self.sock.sendall(data)

    def wait_closed(self):
        """Read and record until the client closes or the peer stops."""
        while True:
            try:
                self._fill()
            except _Closed:
                return
