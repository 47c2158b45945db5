/// A set of call tokens (1, 2, 3, …) as a bitmap: one bit per call, so that keeping track of
/// every call of a long run does not grow the resident memory the run checks.
struct TokenSet {
    private var words: [UInt64] = []

    /// Adds `token`; false if it was already there.
    @discardableResult
    mutating func insert(_ token: Int64) -> Bool {
        let (word, bit) = (Int(token / 64), UInt64(1) << UInt64(token % 64))
        if word >= words.count { words += [UInt64](repeating: 0, count: max(word + 1 - words.count, words.count)) }
        defer { words[word] |= bit }
        return words[word] & bit == 0
    }

    func contains(_ token: Int64) -> Bool {
        let word = Int(token / 64)
        return word < words.count && words[word] & (UInt64(1) << UInt64(token % 64)) != 0
    }

    /// The members, in order.
    var members: [Int64] {
        words.indices.flatMap { word in
            (0..<64).compactMap { bit in words[word] & (UInt64(1) << UInt64(bit)) != 0 ? Int64(word * 64 + bit) : nil }
        }
    }
}
