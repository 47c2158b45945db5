/// Sizes as manifests write them: a whole number of bytes, or one with a binary suffix
/// (`K`, `M`, `G`, `T`, optionally followed by `iB` or `B`: `512M`, `1GiB`), as systemd reads
/// `MemoryMax=`.
enum ByteSize {
    private static let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]

    /// The bytes `text` names, or nil if it is not a size.
    static func parse(_ text: String) -> Int64? {
        var digits = Substring(text)
        var factor: Int64 = 1
        for suffix in ["iB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits = digits.dropLast(suffix.count)
            break
        }
        if let last = digits.last, let unit = units[Character(last.uppercased())] {
            factor = unit
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int64(digits), value >= 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow ? nil : bytes
    }
}
