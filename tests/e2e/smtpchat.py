"""A raw-socket SMTP client for dialogue tests: one command, one reply,
every byte under the test's control (smtplib hides pipelining, bare LF and
malformed commands).

    chat = SmtpChat(port)                 connect, read the greeting
    chat.greeting                         (code, text) of the banner
    code, text = chat.cmd("EHLO c.test")  send a line (CRLF added), read the reply
    chat.lines("EHLO c.test")             the same reply as raw lines ("250-...")
    chat.one("NOOP")                      the raw line of a one-line reply
    chat.send(b"raw bytes"); chat.reply() write anything, read one reply
    chat.outside()                        XCLIENT ADDR=192.0.2.10
                                          NAME=client.remote.test (the client
                                          must be an authorized XCLIENT host)
    chat.closed()                         True once the server hung up

A reply is (code, text): the code as an int and the lines joined by "\n"
without the "NNN-" prefixes. Reading times out after `timeout` seconds
(AssertionError), so a silent server fails the test instead of hanging it.
"""
import socket
import time

OUTSIDE_ADDR = "192.0.2.10"
OUTSIDE_NAME = "client.remote.test"


class SmtpChat:
    def __init__(self, port, host="127.0.0.1", timeout=15, source=None):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.timeout = timeout
        self.buf = b""
        self.greeting_lines = self.reply_lines()
        self.greeting = (int(self.greeting_lines[0][:3]),
                         "\n".join(l[4:] for l in self.greeting_lines))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def _line(self):
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.buf:
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise AssertionError(f"no reply within {self.timeout}s (have {self.buf!r})")
            if not chunk:
                raise EOFError(f"connection closed (have {self.buf!r})")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "surrogateescape")

    def reply_lines(self):
        """Read one complete (possibly multi-line) reply as its raw lines."""
        lines = []
        while True:
            line = self._line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return lines

    def reply(self):
        """Read one complete reply as (code, text)."""
        lines = self.reply_lines()
        return int(lines[0][:3]), "\n".join(l[4:] for l in lines)

    def cmd(self, line):
        """Send LINE (CRLF added); return the reply as (code, text)."""
        self.send(line + "\r\n")
        return self.reply()

    def lines(self, line):
        """Send LINE; return the reply's raw lines ("250-...", "250 ...")."""
        self.send(line + "\r\n")
        return self.reply_lines()

    def one(self, line):
        """Send LINE; return the single raw line of its reply."""
        lines = self.lines(line)
        assert len(lines) == 1, lines
        return lines[0]

    def outside(self, addr=OUTSIDE_ADDR, name=OUTSIDE_NAME):
        """Become an outside client through XCLIENT; returns the new greeting."""
        code, text = self.cmd(f"XCLIENT ADDR={addr} NAME={name}")
        assert code == 220, (code, text)
        return code, text

    def closed(self, wait=5):
        """True when the server closes the connection within WAIT seconds."""
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except (socket.timeout, ConnectionResetError):
            return False

    def transaction(self, sender, recipients, body="Subject: t\r\n\r\nbody\r\n"):
        """MAIL, RCPT..., DATA, body; returns the list of replies."""
        out = [self.cmd(f"MAIL FROM:<{sender}>")]
        out += [self.cmd(f"RCPT TO:<{r}>") for r in recipients]
        code, text = self.cmd("DATA")
        out.append((code, text))
        if code == 354:
            self.send(body + ".\r\n")
            out.append(self.reply())
        return out
