/// The rows `luminal top` shows, made from two samples a refresh apart, and how they sort.
struct TopView {
    /// What the rows are sorted by, and the key that chooses it.
    enum Order: Character, CaseIterable {
        case name = "n", state = "s", calls = "t", latency = "l", errors = "e", restarts = "r", memory = "m", cpu = "c"

        /// For the header: "sorted by memory".
        var label: String {
            switch self {
            case .calls: "calls/s"
            case .latency: "p99 latency"
            case .cpu: "CPU"
            default: "\(self)"
            }
        }
    }

    /// One photon's line.
    struct Row {
        let photon: TopSample.Photon
        let callsPerSecond: Double?
        let p99: Double?
        let memory: Double?
        let cpuShare: Double?
    }

    let rows: [Row]

    /// The rows for `current`, with rates over the time since `previous`.
    init(previous: TopSample?, current: TopSample, order: Order) {
        let elapsed = previous.map { current.time - $0.time } ?? 0
        let rows = current.photons.values.map { photon -> Row in
            let before = previous?.photons[photon.name]
            let calls = before.map { max(0, photon.calls - $0.calls) }
            let cpu = both(previous?.cpu[photon.file], current.cpu[photon.file]).map { max(0, $0.1 - $0.0) }
            return Row(photon: photon, callsPerSecond: elapsed > 0 ? calls.map { $0 / elapsed } : nil,
                       p99: before.flatMap { Self.quantile(0.99, from: $0.buckets, to: photon.buckets) },
                       memory: current.memory[photon.file], cpuShare: elapsed > 0 ? cpu.map { $0 / elapsed } : nil)
        }
        self.rows = rows.sorted { Self.precedes($0, $1, order) }
    }

    /// The table lines: NAME STATE PID GEN CALLS/S P99 ERRORS RESTARTS MEMORY CPU.
    func lines(style: Style) -> [String] {
        var table = Table(headings: ["NAME", "STATE", "PID", "GEN", "CALLS/S", "P99", "ERRORS", "RESTARTS", "MEMORY", "CPU"])
        for row in rows {
            let photon = row.photon
            table.rows.append([
                TerminalText.escaped(photon.name), photon.state, photon.pid, photon.generation,
                row.callsPerSecond.map { String(Int($0.rounded())) } ?? "-", row.p99.map(Self.latency) ?? "-",
                String(Int(photon.errors)), photon.restarts, row.memory.map(Self.bytes) ?? "-",
                row.cpuShare.map { String(Double(Int($0 * 1000)) / 10) + "%" } ?? "-",
            ])
        }
        return table.render(style: style) { column, cell in column == 1 ? style.state(cell) : cell }
    }

    private static func precedes(_ a: Row, _ b: Row, _ order: Order) -> Bool {
        func descending(_ x: Double?, _ y: Double?) -> Bool? { (x ?? -1) == (y ?? -1) ? nil : (x ?? -1) > (y ?? -1) }
        let decided: Bool? = switch order {
        case .name: nil
        case .state: a.photon.state == b.photon.state ? nil : a.photon.state < b.photon.state
        case .calls: descending(a.callsPerSecond, b.callsPerSecond)
        case .latency: descending(a.p99, b.p99)
        case .errors: descending(a.photon.errors, b.photon.errors)
        case .restarts: descending(Double(a.photon.restarts), Double(b.photon.restarts))
        case .memory: descending(a.memory, b.memory)
        case .cpu: descending(a.cpuShare, b.cpuShare)
        }
        return decided ?? (a.photon.name < b.photon.name)
    }

    /// The `q` quantile of the calls that ended between two readings of a histogram, found the
    /// way Prometheus' `histogram_quantile` does (linear within a bucket); nil without calls.
    static func quantile(_ q: Double, from before: [Double: Double], to after: [Double: Double]) -> Double? {
        let bounds = after.keys.sorted()
        let counts = bounds.map { max(0, after[$0]! - (before[$0] ?? 0)) }
        guard let total = counts.last, total > 0 else { return nil }
        let rank = q * total
        var lower = 0.0, below = 0.0
        for (bound, count) in zip(bounds, counts) {
            if count >= rank {
                guard bound.isFinite else { return lower }
                return lower + (bound - lower) * (count > below ? (rank - below) / (count - below) : 1)
            }
            lower = bound
            below = count
        }
        return lower
    }

    /// "0.42ms", "12ms", "1.3s".
    static func latency(_ seconds: Double) -> String {
        if seconds < 0.01 { return String(Double(Int(seconds * 100_000)) / 100) + "ms" }
        if seconds < 1 { return "\(Int(seconds * 1000))ms" }
        return String(Double(Int(seconds * 10)) / 10) + "s"
    }

    /// "812K", "12.3M", "1.1G".
    static func bytes(_ value: Double) -> String {
        if value < 1024 * 1024 { return "\(Int(value / 1024))K" }
        if value < 1024 * 1024 * 1024 { return String(Double(Int(value / 1024 / 1024 * 10)) / 10) + "M" }
        return String(Double(Int(value / 1024 / 1024 / 1024 * 10)) / 10) + "G"
    }
}

/// Both values, when both are there.
private func both<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
