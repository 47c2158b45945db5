#include "LuminalCShims.h"

/* The macro is a bare word on the compiler's command line (no quotes to survive the shells and
   SwiftPM in between); it becomes a string here. */
#define LUMINAL_STRING(word) #word
#define LUMINAL_EXPANDED_STRING(word) LUMINAL_STRING(word)

const char *luminal_build_commit(void) {
#ifdef LUMINAL_COMMIT
    return LUMINAL_EXPANDED_STRING(LUMINAL_COMMIT);
#else
    return "unknown";
#endif
}
