/// The listening sockets a host hands a protocol worker (PROTOCOL.md §1.1): from fd 5 on, told by
/// `LUMINAL_LISTEN_FDS`, `LUMINAL_LISTEN_FDNAMES` and `LUMINAL_LISTEN_PID`.
public enum HeldSockets {
    /// The first socket's fd in a protocol worker (fds 3 and 4 carry the protocol).
    public static let firstFD: Int32 = 5
    /// The most sockets a worker is handed.
    public static let limit = 16

    /// One socket: its name and its fd.
    public struct Entry: Sendable, Hashable {
        /// The name its manifest gave it (`unknown` when the names list has none for it).
        public let name: String
        /// Its file descriptor.
        public let fd: Int32

        /// The socket `name` at `fd`.
        public init(name: String, fd: Int32) {
            self.name = name
            self.fd = fd
        }
    }

    /// The sockets the variables' values describe for the process `ownPID`: none unless `pid` is
    /// `ownPID` in decimal (the variables were inherited from the worker, not set for this
    /// process) and `count` is a decimal from 1 to `limit` (digits only).
    public static func listed(count: String?, names: String?, pid: String?, ownPID: Int32) -> [Entry] {
        guard let pid, decimal(pid) == Int(ownPID), let count, let number = decimal(count), (1...limit).contains(number) else { return [] }
        let given = names.map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) } ?? []
        return (0..<number).map { index in
            let name = index < given.count && !given[index].isEmpty ? given[index] : "unknown"
            return Entry(name: name, fd: firstFD + Int32(index))
        }
    }

    /// `text` as a decimal of one to nine ASCII digits, else nil.
    private static func decimal(_ text: String) -> Int? {
        guard (1...9).contains(text.utf8.count) else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
