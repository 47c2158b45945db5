#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims

/// This process's memory at one moment: what the kernel counts resident, and how much of the
/// heap malloc has handed out against how much it holds.
struct Memory {
    /// VmRSS, from /proc/self/status.
    let residentKiB: Int
    /// Bytes handed out by malloc and not freed (`mallinfo2`: `uordblks` + `hblkhd`).
    let mallocInUseKiB: Int
    /// Bytes malloc holds in all its arenas, free or not (`arena` + `hblkhd`).
    let mallocHeldKiB: Int
    /// Threads of this process.
    let threads: Int

    /// The figures now.
    static func now() -> Memory {
        let status = String(decoding: readFile("/proc/self/status"), as: UTF8.self)
        func field(_ name: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
        }
        let info = mallinfo2()
        return Memory(residentKiB: field("VmRSS"), mallocInUseKiB: Int(info.uordblks + info.hblkhd) / 1024,
                      mallocHeldKiB: Int(info.arena + info.hblkhd) / 1024, threads: field("Threads"))
    }

    /// Adds the figures to `report`, each key prefixed with `prefix`.
    func add(to report: inout Report, _ prefix: String) {
        report[prefix + "rss_kib"] = .int(Int64(residentKiB))
        report[prefix + "malloc_in_use_kib"] = .int(Int64(mallocInUseKiB))
        report[prefix + "malloc_held_kib"] = .int(Int64(mallocHeldKiB))
        report[prefix + "threads"] = .int(Int64(threads))
    }
}
