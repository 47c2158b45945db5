// Elsewhere the build stops here: the failed import ends the module before other files add errors.
#if !canImport(Glibc)
#error("Luminal runs on Linux only (it needs Glibc)")
import Glibc
#endif
