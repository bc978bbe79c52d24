/*
 * rtpproc unit tests - suite registration from a table (see suite.h).
 */
#include "suite.h"

CU_pSuite test_add_all(CU_pSuite s, const test_case *tests, size_t n)
{
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
            return NULL;
    }
    return s;
}
