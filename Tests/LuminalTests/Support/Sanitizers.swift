#if canImport(Glibc)
import Glibc
#endif

/// Whether this process (and so the `luminal` and photons built with it) runs under a sanitizer.
let underSanitizer = ["__asan_init", "__tsan_init"].contains { (name: String) in
    dlsym(nil, name) != nil // nil is RTLD_DEFAULT: every loaded object
}

/// A bound on how much a process's resident memory may grow, in bytes: `mebibytes`, four times
/// that under a sanitizer, whose shadow memory and quarantine of freed blocks grow with the heap.
func memoryBound(mebibytes: Int) -> Int {
    (mebibytes << 20) * (underSanitizer ? 4 : 1)
}
