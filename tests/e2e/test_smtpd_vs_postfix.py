"""Differential test: Postern's smtpd against Debian's Postfix 3.7 smtpd.

Every dialogue of smtpd_dialogues.py (at least 60: every command, every
restriction stage, every access-map action) is played against a scratch
Postfix (smtpd_systems.PostfixSmtpd, started as root) and a scratch
Postern (smtpd_systems.PosternSmtpd), both configured with the same
main.cf (the spec §15 baseline plus the dialogue's overrides). Checks:

- the reply codes and enhanced codes of both, line by line, are equal,
  except the deliberate differences listed in docs/smtpd-differences.md;
- Postern's reply texts are the ones spec/smtpd.md states;
- Postfix's reply texts are the ones the spec states, except the listed
  differences (this proves the dialogues and the runner against the
  reference, independently of Postern);
- Postfix still answers as recorded in data/smtpd_postfix_replies.json
  (codes of every reply), so a change of the reference is noticed;
- the dialogues cover every command, restriction stage and action.

Needs root (Postfix starts only as root). No DNS: the outside client's
name comes from XCLIENT NAME=.
"""

import json
import os
import re
import tempfile
import shutil

import pytest

import smtpd_dialogues as sd
import smtpd_systems as ss

RECORD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "smtpd_postfix_replies.json")
CODE_DIFFS, TEXT_DIFFS = sd.load_differences()
NAMES = [d.name for d in sd.DIALOGUES]


def play_all(server, dialogues=sd.DIALOGUES):
    """{dialogue name: [Reply]}, restarting SERVER only when main.cf changes."""
    out = {}
    current = None
    order = sorted(dialogues, key=lambda d: sorted(sd.main_cf(d).items()))
    for d in order:
        cf = sd.main_cf(d)
        if cf != current:
            server.configure(cf)
            if not server.running:
                server.start()
            current = cf
        out[d.name] = sd.play(d, "127.0.0.1", server.port, timeout=20)
    return out


@pytest.fixture(scope="module")
def postfix_replies():
    work = tempfile.mkdtemp(prefix="postern-smtpd-diff-")
    pf = ss.PostfixSmtpd(work, procs=10)
    try:
        yield play_all(pf)
    finally:
        pf.close()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def postern_replies():
    pn = ss.PosternSmtpd(procs=10)
    try:
        yield play_all(pn)
    finally:
        err = pn.close()
        assert not err, err


def keys(replies):
    return [r.key() for r in replies]


def test_dialogue_coverage():
    """>= 60 uniquely named dialogues; every command, stage and action."""
    assert len(sd.DIALOGUES) >= 60
    assert len(set(NAMES)) == len(NAMES)
    sent = []
    for d in sd.DIALOGUES:
        for step in d.steps:
            if isinstance(step, str) and not step.startswith("@"):
                sent.append(step)
            elif isinstance(step, sd.Step):
                sent.append(step.text)
            elif isinstance(step, sd.Raw):
                sent += step.data.decode("latin-1").split("\r\n")
            elif step == sd.OUTSIDE:
                sent.append("XCLIENT")
    verbs = {s.split()[0].upper() for s in sent if s.strip()}
    for verb in ("HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "HELP",
                 "VRFY", "ETRN", "XCLIENT", "XFORWARD", "STARTTLS", "AUTH", "EXPN", "GET", "POST",
                 "CONNECT"):
        assert verb in verbs, verb
    configs = " ".join(" ".join(f"{k}={v}" for k, v in d.config.items()) for d in sd.DIALOGUES)
    for stage in ("smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
                  "smtpd_relay_restrictions", "smtpd_recipient_restrictions", "smtpd_data_restrictions",
                  "smtpd_end_of_data_restrictions", "smtpd_etrn_restrictions", "smtpd_delay_reject=no"):
        assert stage in configs, stage
    for action in ("=OK", "=RELAY", "=12345", "=REJECT", "=DEFER", "=DEFER_IF_REJECT", "=DEFER_IF_PERMIT",
                   "=451 ", "=553 ", "=421 ", "=521 ", "=DUNNO", "=HOLD", "=DISCARD", "=FILTER ", "=REDIRECT ",
                   "=BCC ", "=PREPEND ", "=WARN ", "=INFO ", "=insiders", "=reject_non_fqdn_recipient"):
        assert action in configs, action


def test_differences_name_real_replies(postfix_replies):
    """Every listed difference names a dialogue and a reply that exist, and
    its Postfix side is what Postfix answers."""
    for (name, idx), (postern_key, postfix_key, reason) in CODE_DIFFS.items():
        assert name in postfix_replies, name
        assert idx < len(postfix_replies[name]), (name, idx)
        assert postfix_replies[name][idx].key() == postfix_key, (name, idx, postfix_replies[name][idx])
        assert postern_key != postfix_key and reason
    for (name, idx), reason in TEXT_DIFFS.items():
        assert name in postfix_replies and idx < len(postfix_replies[name]) and reason, (name, idx)


def _spec_mismatches(replies, mail_name, allowed):
    bad = []
    for d in sd.DIALOGUES:
        got = replies[d.name]
        for idx, want in sd.wants(d).items():
            if (d.name, idx) in allowed:
                continue
            if idx >= len(got):
                bad.append(f"{d.name} reply {idx}: missing (want {sd.expand(want, mail_name)!r})")
            elif not sd.matches(got[idx], want, mail_name):
                bad.append(f"{d.name} reply {idx}: got {got[idx].all_text()!r}, "
                           f"want {sd.expand(want, mail_name)!r}")
    return bad


def test_postfix_matches_spec(postfix_replies):
    """The reference answers as the spec says, except the listed differences."""
    allowed = set(CODE_DIFFS) | set(TEXT_DIFFS)
    bad = _spec_mismatches(postfix_replies, "Postfix", allowed)
    assert not bad, "\n".join(bad)


def test_postfix_matches_record(postfix_replies):
    """Postfix still gives the recorded codes (data/smtpd_postfix_replies.json;
    regenerate with `python3 tests/e2e/test_smtpd_vs_postfix.py --record`)."""
    with open(RECORD) as f:
        record = json.load(f)
    assert sorted(record) == sorted(NAMES)
    bad = [f"{name}: got {[list(k) for k in keys(postfix_replies[name])]}, recorded {record[name]['codes']}"
           for name in NAMES if [list(k) for k in keys(postfix_replies[name])] != record[name]["codes"]]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", NAMES)
def test_postern_vs_postfix(name, postfix_replies, postern_replies):
    """Codes and enhanced codes of every reply, line by line."""
    want = []
    for idx, r in enumerate(postfix_replies[name]):
        diff = CODE_DIFFS.get((name, idx))
        want.append(diff[0] if diff else r.key())
    got = keys(postern_replies[name])
    assert got == want, (f"{name}\npostern: {[r.text() for r in postern_replies[name]]}\n"
                         f"postfix: {[r.text() for r in postfix_replies[name]]}")


def test_postern_matches_spec(postern_replies):
    """Postern's texts are the spec's wherever the spec states them."""
    bad = _spec_mismatches(postern_replies, "Postern", set())
    assert not bad, "\n".join(bad)


def _record():
    """Play every dialogue against Postfix and write RECORD."""
    work = tempfile.mkdtemp(prefix="postern-smtpd-record-")
    pf = ss.PostfixSmtpd(work, procs=10)
    try:
        replies = play_all(pf)
    finally:
        pf.close()
        shutil.rmtree(work, ignore_errors=True)
    out = {}
    for d in sd.DIALOGUES:
        out[d.name] = {
            "codes": [list(r.key()) for r in replies[d.name]],
            "texts": [re.sub(r"queued as [0-9A-Za-z]+", "queued as ID", t)
                      for r in replies[d.name] for t in [r.text()]],
        }
    os.makedirs(os.path.dirname(RECORD), exist_ok=True)
    with open(RECORD, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"recorded {len(out)} dialogues in {RECORD}")


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--record"]:
        _record()
    else:
        sys.exit("usage: test_smtpd_vs_postfix.py --record")
