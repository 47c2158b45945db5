#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Makes stdout line-buffered, so a photon's `print` reaches the supervisor's log as each line is
/// written rather than when a block fills (stdout is a pipe, which C fully buffers by default).
/// Called once on the main thread, before any photon code runs.
func useLineBufferedStandardOutput() {
    setvbuf(stdout, nil, _IOLBF, 0)
}
