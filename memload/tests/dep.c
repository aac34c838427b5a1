/* A dependency found only through its user's $ORIGIN RUNPATH (test for dp_memload). */
#define _GNU_SOURCE
#include <dlfcn.h>

int dpml_dep_value(void) { return 42; }

/* The file this object was loaded from. */
const char *dpml_dep_file(void)
{
    Dl_info info;
    return dladdr((void *)&dpml_dep_value, &info) && info.dli_fname ? info.dli_fname : "";
}
