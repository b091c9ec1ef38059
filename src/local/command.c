/*
 * command - deliver_command(): "|command" destinations of aliases,
 * :include: files and .forward files, and mailbox_command (spec/
 * delivery.md 2.4, 2.5).
 *
 * The command must be allowed by allow_mail_to_commands for the expansion
 * type it came from (mailbox_command, type NONE, always is): else "5.7.1
 * mail to command is restricted". It runs with state->privs (root
 * replaced by default_privs; rootless: the instance user) through
 * pipe_command(): directly or via local_command_shell (default /bin/sh)
 * when it has shell metacharacters, with the environment of spec 2.5
 * (values filtered by command_expansion_filter), in
 * command_execution_directory (expanded) or the queue directory, for at
 * most command_time_limit. Its input: From_, Return-Path:,
 * X-Original-To:, Delivered-To: (when prepend_delivered_header lists
 * "command"), then the message unchanged.
 *
 * Results: "delivered to command: CMD"; otherwise pipe_command()'s status
 * and text (spec 4.4), bounced or deferred. A command met twice in one
 * expansion runs once.
 */
#include "sys_defs.h"

#include <string.h>

#include "argv.h"
#include "deliver_request.h"
#include "local.h"
#include "local_util.h"
#include "mac_expand.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "msg.h"
#include "pipe_command.h"
#include "rec_type.h"

/* Run COMMAND with the message on its input; 0 or -1 (reported). */
int deliver_command(LOCAL_STATE *state, const char *command)
{
    DELIVER_REQUEST *request = state->request;
    PIPE_COMMAND_ATTR attr = PIPE_COMMAND_ATTR_INIT;
    VSTRING *key;
    VSTRING *cwd = NULL;
    LOCAL_PRIVS privs;
    ARGV *env;
    bool seen;
    int status;

    if (msg_verbose)
        msg_info("deliver_command[%d]: %s", state->level, command);
    key = vstring_alloc(100);
    vstring_sprintf(key, "command %s", command);
    seen = local_dup_seen(state, vstring_str(key));
    vstring_free(key);
    if (seen)
        return 0;
    if (!local_allowed(var_allow_mail_to_commands, state->exp_type))
        return local_bounce(state, "5.7.1", "mail to command is restricted");
    if (request->flags & DEL_REQ_FLAG_MTA_VRFY)
        return local_sent(state, "delivers to command: %s", command);

    if (*var_command_execution_directory) {
        cwd = vstring_alloc(100);
        if (local_expand(cwd, var_command_execution_directory, state, var_command_expansion_filter) &
            MAC_EXP_ERROR) {
            msg_warn("bad command_execution_directory syntax: %s", var_command_execution_directory);
            vstring_free(cwd);
            return local_defer(state, "4.3.5", "mail system configuration error");
        }
    }
    privs = local_privs_for(state);
    env = local_command_env(state, var_command_expansion_filter);

    attr.command = command;
    attr.shell = *var_local_command_shell ? var_local_command_shell : NULL;
    attr.uid = privs.uid;
    attr.gid = privs.gid;
    attr.env = (const char *const *)env->argv;
    attr.cwd = cwd ? vstring_str(cwd) : NULL;
    attr.time_limit = var_command_time_limit;
    attr.sender = request->sender;
    attr.orig_rcpt = local_orig_rcpt(state);
    attr.copy_flags = MAIL_COPY_FROM | MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT;
    if (local_delivered_hdr("command")) {
        attr.copy_flags |= MAIL_COPY_DELIVERED;
        attr.delivered = state->delivered;
    } else {
        attr.delivered = "";
    }
    attr.eol = "\n";

    dsb_reset(state->why);
    status = pipe_command(request->fp, request->data_offset, state->why, &attr);
    argv_free(env);
    if (cwd)
        vstring_free(cwd);

    switch (status) {
    case PIPE_STAT_OK:
        return local_sent(state, "delivered to command: %s", command);
    case PIPE_STAT_BOUNCE:
        return local_result(state, state->why, false);
    default:
        return local_result(state, state->why, true);
    }
}
