"""local(8) expansion: aliases, :include:, .forward, owner- aliases and
forwarding (delivery.md 2.2-2.4, acceptance checks 5-10).

Mail is queued straight through cleanup. Local recipients are the
instance's own user (rootless: every delivery runs as that user); remote
addresses go to the scriptable test agent of test_qmgr.py (master.cf
service "test"), which saves each message it receives, so the tests see
the forwarded copy itself (sender, Delivered-To:, content).
"""
import os
import re

import pytest

import postern
from test_qmgr import QID, Sink, delivery_line, submit

DOMAIN = postern.TEST_HOSTNAME


@pytest.fixture
def inst():
    instance = postern.Instance()
    instance.sink = Sink(instance)
    instance.local_user = instance.user.pw_name if instance.user else os.environ.get("USER", "root")
    instance.settings.update({
        "default_transport": "test",
        "relay_transport": "test",
        "alias_maps": f"hash:{instance.root}/etc/aliases",
        "queue_run_delay": "1s",
    })
    yield instance
    instance.close()


def write_aliases(inst, text, **params):
    """Write and build the alias table (postalias), set PARAMS, start."""
    inst.write_file(os.path.join(inst.root, "etc", "aliases"), text)
    inst.run("postalias", os.path.join(inst.root, "etc", "aliases"), check=True)
    inst.settings.update(params)
    inst.write_main_cf("")
    inst.start()


def write_owned(inst, path, text, mode=0o644):
    """A file owned by the instance's user (the .forward/include owner)."""
    with open(path, "w") as f:
        f.write(text)
    inst._own(path)
    os.chmod(path, mode)
    return path


def forwarded_as(inst, qid, rcpt, since=0):
    """The NEWQID of the 'forwarded as NEWQID' line for RCPT."""
    m = inst.wait_log(rf"{qid}: to=<{re.escape(rcpt)}>, relay=local, .*dsn=2\.0\.0, "
                      rf"status=sent \(forwarded as ({QID})\)$", since=since)
    return m.group(1)


def saved_copy(inst, qid, rcpt):
    """The message the test agent saved for QID/RCPT (after it was sent)."""
    delivery_line(inst, qid, rcpt, "sent")
    return inst.sink.saved()[(qid, rcpt)]


def test_alias_to_local_user_and_remote_address(inst):
    """Acceptance 5: local member delivered directly with orig_to, remote
    member in one new message with Delivered-To: of the alias."""
    user = inst.local_user
    write_aliases(inst, f"team: {user}, bob@remote.test, carol@remote.test\n")
    qid = submit(inst, "sender@remote.test", [f"team@{DOMAIN}"], body="body line\n")
    inst.wait_log(rf"{qid}: to=<{user}@{DOMAIN}>, orig_to=<team@{DOMAIN}>, relay=local, .*"
                  rf"dsn=2\.0\.0, status=sent \(delivered to mailbox\)")
    new = forwarded_as(inst, qid, f"team@{DOMAIN}")
    assert new != qid
    inst.wait_log(rf"{new}: from=<sender@remote\.test>, size=\d+, nrcpt=2 \(queue active\)")
    for rcpt in ("bob@remote.test", "carol@remote.test"):
        copy = saved_copy(inst, new, rcpt)
        assert copy.startswith(f"Delivered-To: team@{DOMAIN}\n".encode()), copy
        assert b"Subject: test\n" in copy and copy.endswith(b"body line\n")
    with open(os.path.join(inst.mail_dir, user), "rb") as f:
        assert b"body line\n" in f.read()


def test_alias_self_reference_and_loop(inst):
    """Acceptance 7: an alias naming itself delivers to the mailbox plus a
    forward; a: b, b: a bounces 5.4.6 without hanging."""
    user = inst.local_user
    write_aliases(inst, f"{user}: {user}, bob@remote.test\na: b\nb: a\n")
    qid = submit(inst, "sender@remote.test", [f"{user}@{DOMAIN}"])
    inst.wait_log(rf"{qid}: to=<{user}@{DOMAIN}>, relay=local, .*status=sent \(delivered to mailbox\)")
    new = forwarded_as(inst, qid, f"{user}@{DOMAIN}")
    saved_copy(inst, new, "bob@remote.test")

    qid = submit(inst, "sender@remote.test", [f"a@{DOMAIN}"])
    m = inst.wait_log(rf"{qid}: to=<[ab]@{DOMAIN}>, (orig_to=<a@{DOMAIN}>, )?relay=local, .*"
                      rf"dsn=5\.4\.6, status=bounced \(alias database loop for [ab]\)")
    assert m


def test_owner_alias_changes_sender(inst):
    """Acceptance 6: list members from an :include: file are forwarded with
    sender owner-list@$myorigin; expand_owner_alias uses the owner's value;
    owner_request_special = no keeps the original sender."""
    include = write_owned(inst, os.path.join(inst.root, "list"), "# members\nbob@remote.test\n")
    write_aliases(inst, f"list: :include:{include}\nowner-list: admin\n",
                  allow_mail_to_commands="alias, forward, include")
    qid = submit(inst, "sender@remote.test", [f"list@{DOMAIN}"])
    new = forwarded_as(inst, qid, f"list@{DOMAIN}")
    inst.wait_log(rf"{new}: from=<owner-list@{DOMAIN}>, size=\d+, nrcpt=1")
    saved_copy(inst, new, "bob@remote.test")

    inst.stop()
    inst.settings["expand_owner_alias"] = "yes"
    inst.write_main_cf("")
    inst.start()
    mark = inst.log_mark()
    qid = submit(inst, "sender@remote.test", [f"list@{DOMAIN}"])
    new = forwarded_as(inst, qid, f"list@{DOMAIN}")
    inst.wait_log(rf"{new}: from=<admin@{DOMAIN}>, size=\d+, nrcpt=1", since=mark)

    inst.stop()
    inst.settings["expand_owner_alias"] = "no"
    inst.settings["owner_request_special"] = "no"
    inst.write_main_cf("")
    inst.start()
    mark = inst.log_mark()
    qid = submit(inst, "sender@remote.test", [f"list@{DOMAIN}"])
    new = forwarded_as(inst, qid, f"list@{DOMAIN}")
    inst.wait_log(rf"{new}: from=<sender@remote\.test>, size=\d+, nrcpt=1", since=mark)


def test_include_errors_and_command_permission(inst):
    """Acceptance 9: |command in an :include: file is restricted until
    "include" is allowed; a missing include file bounces 5.3.5 with the
    detail only in the log."""
    out = os.path.join(inst.root, "cmd-out")
    include = write_owned(inst, os.path.join(inst.root, "cmds"), f'"|cat > {out}"\n')
    write_aliases(inst, f"inc: :include:{include}\nmissing: :include:{inst.root}/nonexistent\n")
    qid = submit(inst, "sender@remote.test", [f"inc@{DOMAIN}"])
    delivery_line(inst, qid, f"inc@{DOMAIN}", "bounced")
    inst.wait_log(rf"{qid}: to=<inc@{DOMAIN}>, .*dsn=5\.7\.1, status=bounced \(mail to command is restricted\)")
    assert not os.path.exists(out)

    qid = submit(inst, "sender@remote.test", [f"missing@{DOMAIN}"])
    m = delivery_line(inst, qid, f"missing@{DOMAIN}", "bounced")
    assert (m["dsn"], m["text"]) == ("5.3.5", "mail system configuration error")
    inst.wait_log(rf"warning: cannot open include file {re.escape(inst.root)}/nonexistent: "
                  rf"No such file or directory")

    inst.stop()
    inst.settings["allow_mail_to_commands"] = "alias, forward, include"
    inst.write_main_cf("")
    inst.start()
    qid = submit(inst, "sender@remote.test", [f"inc@{DOMAIN}"], body="to the command\n")
    m = delivery_line(inst, qid, f"inc@{DOMAIN}", "sent")
    assert m["text"] == f"delivered to command: cat > {out}"
    with open(out, "rb") as f:
        assert b"to the command\n" in f.read()


def test_alias_command_and_file(inst):
    """|command and /file in an alias; refused with 5.7.1 when not allowed."""
    out = os.path.join(inst.root, "alias-cmd")
    mbox = os.path.join(inst.root, "alias-file")
    write_aliases(inst, f'cmd: "|cat > {out}"\nfile: {mbox}\n')
    qid = submit(inst, "sender@remote.test", [f"cmd@{DOMAIN}", f"file@{DOMAIN}"], body="payload\n")
    m = delivery_line(inst, qid, f"cmd@{DOMAIN}", "sent")
    assert m["text"] == f"delivered to command: cat > {out}"
    m = delivery_line(inst, qid, f"file@{DOMAIN}", "sent")
    assert m["text"] == f"delivered to file: {mbox}"
    with open(mbox, "rb") as f:
        data = f.read()
    assert data.startswith(b"From sender@remote.test  ") and b"payload\n" in data
    with open(out, "rb") as f:
        assert b"payload\n" in f.read()

    inst.stop()
    inst.settings.update({"allow_mail_to_commands": "forward", "allow_mail_to_files": "forward"})
    inst.write_main_cf("")
    inst.start()
    qid = submit(inst, "sender@remote.test", [f"cmd@{DOMAIN}", f"file@{DOMAIN}"])
    m = delivery_line(inst, qid, f"cmd@{DOMAIN}", "bounced")
    assert (m["dsn"], m["text"]) == ("5.7.1", "mail to command is restricted")
    m = delivery_line(inst, qid, f"file@{DOMAIN}", "bounced")
    assert (m["dsn"], m["text"]) == ("5.7.1", "mail to file is restricted")


def test_dotforward(inst):
    """Acceptance 10: a .forward (forward_path under the instance root)
    forwards; world-writable -> warning and mailbox delivery."""
    user = inst.local_user
    fwd_dir = os.path.join(inst.root, "fwd")
    os.makedirs(fwd_dir)
    inst._own(fwd_dir)
    fwd = write_owned(inst, os.path.join(fwd_dir, user), "bob@remote.test\n")
    write_aliases(inst, "unrelated: bob@remote.test\n", forward_path=f"{fwd_dir}/$user")
    qid = submit(inst, "sender@remote.test", [f"{user}@{DOMAIN}"])
    new = forwarded_as(inst, qid, f"{user}@{DOMAIN}")
    copy = saved_copy(inst, new, "bob@remote.test")
    assert copy.startswith(f"Delivered-To: {user}@{DOMAIN}\n".encode())

    os.chmod(fwd, 0o666)
    qid = submit(inst, "sender@remote.test", [f"{user}@{DOMAIN}"])
    inst.wait_log(rf"warning: file {re.escape(fwd)} is world writable")
    m = delivery_line(inst, qid, f"{user}@{DOMAIN}", "sent")
    assert m["text"] == "delivered to mailbox"


def test_missing_required_alias_is_discarded(inst):
    """No postmaster alias and no such user: warning, mail discarded."""
    write_aliases(inst, "unrelated: bob@remote.test\n")
    qid = submit(inst, "sender@remote.test", [f"postmaster@{DOMAIN}"])
    m = delivery_line(inst, qid, f"postmaster@{DOMAIN}", "sent")
    assert m["text"] == "discarded"
    inst.wait_log(r"warning: required alias not found: postmaster")


def test_alias_database_unavailable_defers(inst):
    """A table that cannot be opened: 4.3.0 alias database unavailable."""
    inst.settings["alias_maps"] = f"hash:{inst.root}/etc/no-such-aliases"
    inst.write_main_cf("")
    inst.start()
    qid = submit(inst, "sender@remote.test", [f"someone@{DOMAIN}"])
    m = delivery_line(inst, qid, f"someone@{DOMAIN}", "deferred")
    assert (m["dsn"], m["text"]) == ("4.3.0", "alias database unavailable")


def test_system_mode_privileges(make_instance):
    """Acceptance 8 (root only): a command in a root-owned alias table runs
    as default_privs (nobody); the same command in a user's .forward runs
    as that user."""
    if os.geteuid() != 0:
        pytest.fail("system mode needs root")
    nobody = postern.pwd.getpwnam("nobody")
    user = postern.pwd.getpwnam("mail")  # an account other than default_privs
    inst = make_instance(system=True)
    out_dir = os.path.join(inst.root, "out")
    os.makedirs(out_dir)
    os.chmod(out_dir, 0o777)
    fwd_dir = os.path.join(inst.root, "fwd")
    os.makedirs(fwd_dir)
    os.chmod(fwd_dir, 0o755)
    aliases = os.path.join(inst.root, "etc", "aliases")
    inst.write_file(aliases, f'cmd: "|/usr/bin/id -u > {out_dir}/alias-uid"\n')
    inst.run("postalias", aliases, check=True)
    fwd = os.path.join(fwd_dir, "mail")
    with open(fwd, "w") as f:
        f.write(f'"|/usr/bin/id -u > {out_dir}/forward-uid"\n')
    os.chown(fwd, user.pw_uid, user.pw_gid)
    inst.settings.update({"alias_maps": f"hash:{aliases}", "forward_path": f"{fwd_dir}/$user"})
    inst.write_main_cf("")
    inst.start(timeout=10)
    qid = submit(inst, "sender@example.org", [f"cmd@{DOMAIN}", f"mail@{DOMAIN}"])
    for rcpt in (f"cmd@{DOMAIN}", f"mail@{DOMAIN}"):
        m = delivery_line(inst, qid, rcpt, "sent")
        assert m["text"].startswith("delivered to command: /usr/bin/id -u"), m.group(0)
    for name, uid in (("alias-uid", nobody.pw_uid), ("forward-uid", user.pw_uid)):
        with open(os.path.join(out_dir, name)) as f:
            assert f.read().strip() == str(uid), name


def test_plain_alias_passes_dsn_on(inst):
    """Spec 2.2: a plain alias passes ENVID, RET, ORCPT and NOTIFY (without
    SUCCESS) to the forwarded copy; the copy stays queued here (the test
    agent defers it) so its envelope can be read."""
    inst.sink.set_rules("^bob@ defer\n")
    write_aliases(inst, "team: bob@remote.test\n")
    with inst.smtp() as s:
        s.mail("sender@remote.test", ["RET=HDRS", "ENVID=env42"])
        code, _ = s.rcpt(f"team@{DOMAIN}", ["NOTIFY=SUCCESS,FAILURE", f"ORCPT=rfc822;team@{DOMAIN}"])
        assert code == 250
        code, text = s.data(b"Subject: dsn\r\n\r\nbody\r\n")
        assert code == 250, text
        qid = re.search(rb"queued as (\w+)", text).group(1).decode()
    new = forwarded_as(inst, qid, f"team@{DOMAIN}")
    delivery_line(inst, new, "bob@remote.test", "deferred")
    env = inst.postcat(new, "-e").splitlines()
    assert "named_attribute: envelope_id=env42" in env
    assert "named_attribute: dsn_ret=2" in env
    i = env.index("recipient: bob@remote.test")
    assert env[i - 3:i] == [f"original_recipient: team@{DOMAIN}",
                            f"dsn_original_recipient: rfc822;team@{DOMAIN}",
                            "dsn_notify_flags: 4"]  # FAILURE only
