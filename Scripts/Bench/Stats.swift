/// A sorted sample of durations, in milliseconds.
struct Stats {
    let values: [Double]

    init(_ durations: [Duration]) {
        values = durations.map(milliseconds).sorted()
    }

    /// The smallest value with at least `p` percent of the sample at or below it.
    func percentile(_ p: Double) -> Double {
        values.isEmpty ? .nan : values[min(values.count - 1, max(0, Int((p / 100 * Double(values.count)).rounded(.up)) - 1))]
    }
}

/// `duration` in milliseconds.
func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}
