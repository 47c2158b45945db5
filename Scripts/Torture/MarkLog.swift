#if canImport(Glibc)
import Glibc
#endif

/// The file every worker appends a call's token to when it runs the call (chaos photon `mark`),
/// read as it grows: a token written twice is a call run twice.
struct MarkLog {
    let path: String
    private var offset = 0
    private var partial: [UInt8] = []
    private(set) var seen = TokenSet()

    init(path: String) {
        self.path = path
    }

    /// Reads what was appended since the last time; returns the first token seen twice, if any.
    mutating func readNew() -> Int64? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var duplicate: Int64?
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n <= 0 { break }
            offset += n
            for byte in chunk.prefix(n) {
                guard byte == UInt8(ascii: "\n") else { partial.append(byte); continue }
                if let token = Int64(String(decoding: partial, as: UTF8.self)), token > 0, !seen.insert(token) {
                    duplicate = duplicate ?? token
                }
                partial.removeAll(keepingCapacity: true)
            }
        }
        return duplicate
    }
}
