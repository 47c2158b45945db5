#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The scratch folders made so far, which `fail` removes (those already removed are skipped).
let scratchFolders = Mutex<[String]>([])

/// A new folder under /tmp, removed by its benchmark or, if the benchmark fails, by `fail`.
func makeTemporaryFolder() -> String {
    var template = Array("/tmp/luminal-bench-XXXXXX".utf8CString)
    _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    scratchFolders.withLock { $0.append(path) }
    return path
}

func readFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { return [] }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n == 0 { return bytes }
        bytes += chunk[0..<n]
    }
}

func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
    fchmod(fd, mode)
    close(fd)
}

func copyFile(_ source: String, to target: String, mode: mode_t) {
    writeFile(target, readFile(source), mode: mode)
}

func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if info.st_mode & S_IFMT == S_IFDIR {
        let names = entries(of: path)
        names.forEach { removeTree(path + "/" + $0) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// The folder holding `path`.
func parent(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return String(path[..<slash])
}

/// This program's own path.
func executablePath() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return String(decoding: buffer.prefix(max(0, n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// User + system CPU seconds of this process.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// The names in `folder`, without `.` and `..`.
func entries(of folder: String) -> [String] {
    guard let dir = opendir(folder) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        // Read in place up to the NUL: `entry.pointee` would copy all 256 bytes of d_name,
        // past the end of the last entry in the C library's buffer.
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        let name = String(cString: UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: CChar.self))
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// `count` photon files `p0` … in `folder`, each a script running chaos-photon's serving photon.
func writeChaosPhotons(_ count: Int, in folder: String) {
    let photon = parent(executablePath()) + "/chaos-photon"
    for index in 0..<count {
        writeFile(folder + "/p\(index)", Array("#!/bin/sh\nexec '\(photon)' serve p\(index)\n".utf8), mode: 0o755)
    }
}
