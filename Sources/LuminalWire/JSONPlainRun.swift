/// Finds the end of a run of string bytes that JSON writes as they are: every byte but `"`, `\`
/// and the control characters below 0x20. Looks at eight bytes at a time: a long string (a
/// streamed part, a large result) is scanned several times faster than byte by byte.
enum JSONPlainRun {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The index of the first byte from `start` that is `"`, `\` or below 0x20, or `bytes.count`.
    static func end(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return start }
        var index = start
        let count = bytes.count
        while index + 8 <= count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            if needsLook(word) {
                for offset in index..<index + 8 where ends(base[offset]) { return offset }
            }
            index += 8
        }
        while index < count, !ends(base[index]) { index += 1 }
        return index
    }

    /// Whether `byte` ends a run.
    private static func ends(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Whether some byte of `word` may be one that ends a run: never false when one is there, and
    /// sometimes true when none is (a borrow across bytes, bytes from 0x80 up).
    private static func needsLook(_ word: UInt64) -> Bool {
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = hasZero(word ^ (ones &* UInt64(UInt8(ascii: "\""))))
        let backslash = hasZero(word ^ (ones &* UInt64(UInt8(ascii: "\\"))))
        return control | quote | backslash != 0
    }

    private static func hasZero(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highs
    }
}
