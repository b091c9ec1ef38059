/*
 * postmap - build, change and query lookup tables (postmap(1)).
 *
 * The work is shared with postalias in src/global/mkmap.c; this program
 * reads "key value" source files and prints "KEY<TAB>VALUE".
 */
#include "sys_defs.h"

#include "mkmap.h"

int main(int argc, char **argv)
{
    return mkmap_main(argc, argv, MKMAP_POSTMAP);
}
