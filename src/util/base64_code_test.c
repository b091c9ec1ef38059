/*
 * base64_code_test - unit tests for base64_code: RFC 4648 test vectors,
 * the SMTP AUTH strings of spec/security.md 5.2, and rejected input.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "base64_code.h"

static const struct {
    const char *raw;
    size_t len;
    const char *b64;
} vectors[] = {
    {"", 0, ""},
    {"f", 1, "Zg=="},
    {"fo", 2, "Zm8="},
    {"foo", 3, "Zm9v"},
    {"foob", 4, "Zm9vYg=="},
    {"fooba", 5, "Zm9vYmE="},
    {"foobar", 6, "Zm9vYmFy"},
    {"\0alice\0secret", 13, "AGFsaWNlAHNlY3JldA=="},
    {"Username:", 9, "VXNlcm5hbWU6"},
    {"\xff\xfe\x00", 3, "//4A"},
};

static void test_encode(void **state UNUSED)
{
    VSTRING *out = vstring_alloc(1);

    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
        assert_string_equal(vstring_str(base64_encode(out, vectors[i].raw, vectors[i].len)), vectors[i].b64);
    vstring_free(out);
}

static void test_decode(void **state UNUSED)
{
    VSTRING *out = vstring_alloc(1);

    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        assert_non_null(base64_decode(out, vectors[i].b64, strlen(vectors[i].b64)));
        assert_int_equal(VSTRING_LEN(out), vectors[i].len);
        assert_memory_equal(vstring_str(out), vectors[i].raw, vectors[i].len);
    }
    vstring_free(out);
}

static void test_decode_rejects(void **state UNUSED)
{
    static const char *bad[] = {"Zg=", "Zg", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm=v", "*", "Zm9v\n"};
    VSTRING *out = vstring_alloc(1);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_null(base64_decode(out, bad[i], strlen(bad[i])));
    vstring_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_rejects),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
