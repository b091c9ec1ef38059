/*
 * smtpd_fuzz - libFuzzer target for the SMTP command and address parsers
 * (src/smtpd/smtpd_token.h): smtpd_token() splits any input into words,
 * then smtpd_addr_extract() parses the words after the first as a MAIL
 * FROM / RCPT TO address under every flag combination. The first input
 * byte selects where the address words start, so the fuzzer also reaches
 * the "FROM:<a@b>" glued form and bare addresses.
 *
 * Public function: LLVMFuzzerTestOneInput() (libFuzzer's entry point).
 * Errors: a crash, sanitizer report or out-of-bounds access is the only
 * failure; every return value of the parsers is acceptable.
 *
 * Build and run: make fuzz; make fuzz-check (20 s, part of make check).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mymalloc.h"
#include "smtpd_token.h"
#include "vstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: tokenize it, then parse the address words with every flag set. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static VSTRING *result;
    SMTPD_TOKEN *argv;
    char *line;
    int argc;
    int start;
    int flags;
    int next;

    if (size == 0)
        return 0;
    if (result == 0)
        result = vstring_alloc(100);
    start = data[0] % 3;
    line = mymalloc(size);
    memcpy(line, data + 1, size - 1);
    line[size - 1] = 0;
    argc = smtpd_token(line, &argv);
    if (argc < 0)
        __builtin_trap();
    for (int i = 0; i < argc; i++)
        if (argv[i].strval == 0 || argv[i].tokval < SMTPD_TOK_OTHER || argv[i].tokval > SMTPD_TOK_ERROR)
            __builtin_trap();
    if (argc > start) {
        for (flags = 0; flags < (SMTPD_ADDR_STRICT | SMTPD_ADDR_EMPTY_OK | SMTPD_ADDR_UTF8) + 1; flags++) {
            vstring_reset(result);
            next = smtpd_addr_extract(argv + start, argc - start, result, flags);
            if (next < -1 || next > argc - start)
                __builtin_trap();
            if (next >= 0 && strlen(vstring_str(result)) != VSTRING_LEN(result))
                __builtin_trap();
        }
    }
    myfree(line);
    return 0;
}
