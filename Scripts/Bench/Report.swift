#if canImport(Glibc)
import Glibc
#endif
import LuminalWire

/// One benchmark's result, printed as a single JSON line for Scripts/bench to read.
struct Report {
    private var fields: [String: JSONValue] = [:]

    init(_ benchmark: String) {
        fields["benchmark"] = .string(benchmark)
    }

    subscript(key: String) -> JSONValue? {
        get { fields[key] }
        set { fields[key] = newValue }
    }

    /// Adds median, p99, mean and sample count of `stats` under `key`.
    mutating func add(_ key: String, _ stats: Stats) {
        fields[key] = ["p50_ms": .double(stats.percentile(50)), "p99_ms": .double(stats.percentile(99)),
                       "min_ms": .double(stats.values.first ?? 0), "max_ms": .double(stats.values.last ?? 0),
                       "n": .int(Int64(stats.values.count))]
    }

    /// Writes the line to stdout.
    func print() {
        var line = JSONValue.object(fields).serialized()
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
    }
}

/// Stops the benchmark: something it needs did not work. Its scratch folders go first.
func fail(_ message: String) -> Never {
    let line = Array("luminal-bench: \(message)\n".utf8)
    line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    scratchFolders.withLock { $0 }.forEach(removeTree)
    exit(1)
}
