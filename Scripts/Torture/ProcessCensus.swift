#if canImport(Glibc)
import Glibc
#endif

/// What this process holds at one moment: descriptors, children, zombies, resident memory.
struct ProcessCensus {
    /// Open file descriptors.
    let descriptors: Int
    /// Child processes, zombies included.
    let children: [pid_t]
    /// Children that have exited and are not reaped yet.
    let zombies: Set<pid_t>
    /// Resident set size in bytes.
    let residentBytes: Int

    /// Takes the census now, from /proc.
    static func now() -> ProcessCensus {
        let children = (entries("/proc/self/task") ?? []).flatMap { task in
            read("/proc/self/task/\(task)/children").split(separator: " ").compactMap { pid_t($0) }
        }
        let zombies = children.filter { pid in
            // The state is the field after the command name, which ends at the last ')'.
            let stat = read("/proc/\(pid)/stat")
            guard let close = stat.lastIndex(of: ")") else { return false }
            return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
        }
        let pages = read("/proc/self/statm").split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        // One descriptor is the directory being listed.
        return ProcessCensus(descriptors: (entries("/proc/self/fd")?.count ?? 1) - 1, children: children,
                             zombies: Set(zombies), residentBytes: pages * Int(sysconf(Int32(_SC_PAGESIZE))))
    }

    private static func entries(_ path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            // In place, up to the NUL: the record is shorter than the 256-byte d_name field.
            let name = String(cString: UnsafeRawPointer(entry).advanced(by: MemoryLayout<dirent>.offset(of: \dirent.d_name)!)
                .assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// A small /proc file's text; empty if it cannot be read (the process is gone).
    static func read(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk.prefix(n)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
