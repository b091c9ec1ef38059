/*
 * postalias - build, change and query alias tables (postalias(1)).
 *
 * The work is shared with postmap in src/global/mkmap.c; this program
 * reads aliases(5) files ("name: value, ...", stored with the Sendmail
 * end marker "@") and prints "KEY:<TAB>VALUE".
 */
#include "sys_defs.h"

#include "mkmap.h"

int main(int argc, char **argv)
{
    return mkmap_main(argc, argv, MKMAP_ALIASES);
}
