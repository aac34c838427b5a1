/* An object with an $ORIGIN dependency, a static counter and a build-time version (test for dp_memload). */
#define _GNU_SOURCE
#include <dlfcn.h>

int dpml_dep_value(void);

static int counter;

int dpml_user_value(void) { return dpml_dep_value() + 1; }
int dpml_user_bump(void) { return ++counter; }
int dpml_user_version(void) { return USER_VERSION; }

/* What dladdr says about this object (a plugin finds its sibling files this way). */
const char *dpml_user_file(void)
{
    Dl_info info;
    return dladdr((void *)&dpml_user_value, &info) && info.dli_fname ? info.dli_fname : "";
}
