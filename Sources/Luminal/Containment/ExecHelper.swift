#if canImport(Glibc)
import Glibc
#endif

/// Finds `luminal-exec`, the program that applies a worker's cgroup, limits and identity to
/// itself and then execs the photon: `$LUMINAL_EXEC`, else beside the running executable (where
/// `swift build` puts it next to `luminal` and the tests).
enum ExecHelper {
    /// Its path, or nil when it is not installed.
    static let path: String? = {
        if let set = getenv("LUMINAL_EXEC").map({ String(cString: $0) }), !set.isEmpty {
            return Paths.isExecutable(set) ? set : nil
        }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let beside = Paths.join(Paths.parent(String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)), "luminal-exec")
        return Paths.kind(beside) == .regular && Paths.isExecutable(beside) ? beside : nil
    }()
}
