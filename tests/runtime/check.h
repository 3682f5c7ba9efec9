/* CHECK for code that runs inside coroutines or threads: report the failed condition and return
 * its line from the enclosing function, so the cmocka test asserts the result outside (cmocka's
 * longjmp must not cross a coroutine or thread boundary). Shared by the async tests and their
 * generated sync twins. */
#ifndef RUNTIME_TEST_CHECK_H
#define RUNTIME_TEST_CHECK_H

#include <stdio.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            return __LINE__;                                                                       \
        }                                                                                          \
    } while (0)

/* CHECK that an int-returning expression equals `want`, printing both values. */
#define CHECK_RC(expr, want)                                                                       \
    do {                                                                                           \
        int check_rc_ = (expr);                                                                    \
        if (check_rc_ != (want)) {                                                                 \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d\n", __FILE__, __LINE__,       \
                    #expr, check_rc_, unasync_err_name(check_rc_), (int)(want));                   \
            return __LINE__;                                                                       \
        }                                                                                          \
    } while (0)

#endif /* RUNTIME_TEST_CHECK_H */
