/*
 * mail_params_init - the start-up account checks of system mode
 * (config.md 10). See mail_params_init.h.
 *
 * mail_params_accounts() looks up mail_owner, setgid_group and
 * default_privs and stores their ids in mail_owner_uid, mail_owner_gid
 * and mail_setgid_gid. Only programs that run as root (postfix, master,
 * the server skeletons before they drop privileges) call it: rootless
 * mode never looks these accounts up.
 *
 * Errors are fatal, with Postfix's texts:
 *   file DIR/main.cf: parameter NAME: unknown user name value: X
 *   file DIR/main.cf: parameter NAME: user X has privileged user ID
 *   file DIR/main.cf: parameter NAME: user X has privileged group ID
 *   file DIR/main.cf: parameter NAME: user X has same user ID as Y
 *   file DIR/main.cf: parameter setgid_group: unknown group name: X
 *   file DIR/main.cf: parameter setgid_group: group X has privileged group ID
 *   file DIR/main.cf: parameter setgid_group: group X has same group ID as Y
 *   file DIR/main.cf: parameters default_privs and mail_owner specify the same user X
 *   file DIR/main.cf: parameters A and B: user X and group Y have the same group ID: N
 *   file DIR/main.cf: parameters A and B: users X and Y have the same group ID: N
 */
#include "sys_defs.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

uid_t mail_owner_uid = (uid_t)-1;
gid_t mail_owner_gid = (gid_t)-1;
gid_t mail_setgid_gid = (gid_t)-1;

/* One user account parameter: exists, unprivileged, not shared. */
static void mail_params_user(const char *param, const char *name, uid_t *uid, gid_t *gid)
{
    struct passwd *pw;
    char *canon;

    if ((pw = getpwnam(name)) == NULL)
        msg_fatal("file %s: parameter %s: unknown user name value: %s", mail_conf_path, param, name);
    if (pw->pw_uid == 0)
        msg_fatal("file %s: parameter %s: user %s has privileged user ID", mail_conf_path, param, name);
    if (pw->pw_gid == 0)
        msg_fatal("file %s: parameter %s: user %s has privileged group ID", mail_conf_path, param, name);
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    canon = mystrdup(pw->pw_name);
    /* The first account with this uid must be this one. */
    if ((pw = getpwuid(*uid)) != NULL && strcmp(pw->pw_name, canon) != 0)
        msg_fatal("file %s: parameter %s: user %s has same user ID as %s", mail_conf_path, param, canon,
                  pw->pw_name);
    myfree(canon);
}

void mail_params_accounts(void)
{
    struct group *gr;
    uid_t priv_uid;
    gid_t priv_gid;
    char *canon;

    mail_params_user("mail_owner", var_mail_owner, &mail_owner_uid, &mail_owner_gid);

    if ((gr = getgrnam(var_setgid_group)) == NULL)
        msg_fatal("file %s: parameter setgid_group: unknown group name: %s", mail_conf_path,
                  var_setgid_group);
    if (gr->gr_gid == 0)
        msg_fatal("file %s: parameter setgid_group: group %s has privileged group ID", mail_conf_path,
                  var_setgid_group);
    mail_setgid_gid = gr->gr_gid;
    canon = mystrdup(gr->gr_name);
    if ((gr = getgrgid(mail_setgid_gid)) != NULL && strcmp(gr->gr_name, canon) != 0)
        msg_fatal("file %s: parameter setgid_group: group %s has same group ID as %s", mail_conf_path, canon,
                  gr->gr_name);
    myfree(canon);

    mail_params_user("default_privs", var_default_privs, &priv_uid, &priv_gid);
    if (priv_uid == mail_owner_uid)
        msg_fatal("file %s: parameters default_privs and mail_owner specify the same user %s", mail_conf_path,
                  var_default_privs);

    if (mail_owner_gid == mail_setgid_gid)
        msg_fatal("file %s: parameters mail_owner and setgid_group: user %s and group %s have the same group "
                  "ID: %ld",
                  mail_conf_path, var_mail_owner, var_setgid_group, (long)mail_setgid_gid);
    if (priv_gid == mail_setgid_gid)
        msg_fatal("file %s: parameters default_privs and setgid_group: user %s and group %s have the same "
                  "group ID: %ld",
                  mail_conf_path, var_default_privs, var_setgid_group, (long)mail_setgid_gid);
    if (priv_gid == mail_owner_gid)
        msg_fatal("file %s: parameters default_privs and mail_owner: users %s and %s have the same group ID: "
                  "%ld",
                  mail_conf_path, var_default_privs, var_mail_owner, (long)priv_gid);
}

/*
 * A set-gid program (postdrop, postqueue) honours another configuration
 * directory in MAIL_CONFIG only for root, when it is not running set-gid,
 * or when the default main.cf lists it in alternate_config_directories or
 * multi_instance_directories (config.md 10); else it is fatal.
 */
void mail_params_check_setgid_config(void)
{
    const char *dir = getenv("MAIL_CONFIG");
    char *copy;
    char *cp;
    char *item;
    bool ok = false;

    if (dir == NULL || getuid() == 0 || getgid() == getegid() || strcmp(dir, DEF_CONFIG_DIR) == 0)
        return;
    if (unsetenv("MAIL_CONFIG") < 0)
        msg_fatal("unsetenv: %m");
    mail_conf_read();
    mail_params_init();
    copy = vstring_export(vstring_sprintf(vstring_alloc(100), "%s %s", var_alternate_config_directories,
                                          var_multi_instance_directories));
    cp = copy;
    while (!ok && (item = strsep(&cp, ", \t\r\n")) != NULL)
        ok = *item && strcmp(item, dir) == 0;
    myfree(copy);
    if (!ok)
        msg_fatal("untrusted configuration directory name: %s", dir);
    if (setenv("MAIL_CONFIG", dir, 1) < 0)
        msg_fatal("setenv: %m");
}
