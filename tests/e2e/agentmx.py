"""An SMTP server instance whose mail goes to the scriptable test delivery
agent (src/testagent), for the smtpd end-to-end tests
(test_smtpd_access.py, test_smtpd_sasl.py).

    mx = AgentMx(instance, baseline)   main.cf settings BASELINE; local,
                                       default and relay transport "test"
    mx.start(queue_only=False, **params)   write main.cf (+ PARAMS), start;
                                       queue_only: no queue manager, so
                                       accepted mail stays in incoming/
    mx.chat(outside=False, helo="c.test", source=None)   an SmtpChat after
                                       EHLO (outside: XCLIENT to another
                                       client first; helo None: no EHLO)
    mx.rcpt(recipient, sender, outside)    one RCPT reply in a new session
    mx.requests(qid), mx.request(qid)  the agent's journal entries for QID
                                       (all, the first)
    mx.delivered(qid)                  their recipients, sorted (address, orig)
"""
import json
import re

import postern
from smtpchat import SmtpChat


class AgentMx:
    """The instance with its baseline and the test agent (module docstring)."""

    def __init__(self, inst, baseline):
        self.inst = inst
        self.rules, self.journal = inst.add_test_agent()
        inst.settings.update(baseline)
        inst.settings.update({"local_transport": "test", "default_transport": "test",
                              "relay_transport": "test"})

    def start(self, queue_only=False, **params):
        self.inst.write_main_cf("".join(f"{k} = {v}\n" for k, v in params.items()))
        if queue_only:
            master = self.inst.read_master_cf()
            self.inst.write_master_cf(re.sub(r"^qmgr .*\n", "", master, flags=re.M))
        self.inst.start()
        return self

    def chat(self, outside=False, helo="c.test", source=None):
        chat = SmtpChat(self.inst.smtp_port, source=source)
        if outside:
            chat.outside()
        if helo:
            code, _ = chat.cmd(f"EHLO {helo}")
            assert code == 250
        return chat

    def rcpt(self, recipient, sender="a@remote.test", outside=False):
        with self.chat(outside=outside) as chat:
            assert chat.cmd(f"MAIL FROM:<{sender}>")[0] == 250
            return chat.cmd(f"RCPT TO:<{recipient}>")

    def requests(self, qid):
        """Every journal entry for QID, once the queue manager removed it."""
        self.inst.wait_log(rf": {qid}: removed")
        with open(self.journal) as f:
            return [req for req in map(json.loads, filter(str.strip, f)) if req["queue_id"] == qid]

    def request(self, qid):
        reqs = self.requests(qid)
        if not reqs:
            raise AssertionError(f"{qid} not in the journal")
        return reqs[0]

    def delivered(self, qid):
        return sorted((r["address"], r["orig"]) for req in self.requests(qid) for r in req["recipients"])
