"""Every built-in default: `postconf -c EMPTYDIR -d NAME` must print exactly
the line `NAME = VALUE` of data/postconf-d.expected (config.md sections 6.1
and 8; the file is Postern's reference list of defaults).

All names are asked for in a few invocations, and every difference is
reported in one assertion message.
"""

import os
import re

import pytest

EXPECTED_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "data", "postconf-d.expected")
NAMES_PER_CALL = 200


def load_expected():
    """{name: line} from EXPECTED_FILE; blank and # lines are skipped."""
    if not os.path.exists(EXPECTED_FILE):
        pytest.fail(f"{EXPECTED_FILE} does not exist: the reference list of "
                    "built-in defaults (one `name = value` line each) is missing")
    expected, bad = {}, []
    with open(EXPECTED_FILE, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            m = re.match(r"([A-Za-z0-9_]+) =(?: |$)", line)
            if not m:
                bad.append(f"line {n}: {line!r}")
                continue
            expected[m.group(1)] = line
    assert not bad, f"{EXPECTED_FILE}: lines that are not `name = value`:\n" \
        + "\n".join(bad)
    assert expected, f"{EXPECTED_FILE} lists no parameters"
    return expected


def test_postconf_d_matches_expected_defaults(empty_config_dir):
    expected = load_expected()
    names = list(expected)
    got, errors = {}, []
    for i in range(0, len(names), NAMES_PER_CALL):
        chunk = names[i:i + NAMES_PER_CALL]
        r = empty_config_dir.postconf("-d", *chunk)
        if r.returncode != 0:
            errors.append(f"postconf -d exited {r.returncode}: {r.stderr.strip()}")
        for line in r.stdout_lines:
            got.setdefault(line.split(" ", 1)[0], line)
        errors += [line for line in r.stderr_lines
                   if "unknown parameter" not in line]
    diffs = []
    for name in names:
        if name not in got:
            diffs.append(f"{name}: not printed (unknown parameter?)\n"
                         f"    want: {expected[name]!r}")
        elif got[name] != expected[name]:
            diffs.append(f"{name}:\n    want: {expected[name]!r}\n"
                         f"    got:  {got[name]!r}")
    message = (f"{len(diffs)} of {len(names)} defaults differ from "
               f"{os.path.relpath(EXPECTED_FILE)}:\n" + "\n".join(diffs))
    if errors:
        message += "\nunexpected stderr:\n" + "\n".join(errors)
    assert not diffs and not errors, message
