/// Median, p99 and extremes of a sample, in milliseconds.
struct Stats: CustomStringConvertible {
    let values: [Double]

    init(_ durations: [Duration]) {
        values = durations.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 }.sorted()
    }

    func percentile(_ p: Double) -> Double {
        values.isEmpty ? .nan : values[min(values.count - 1, Int((p / 100 * Double(values.count)).rounded(.up)) - 1)]
    }

    var description: String {
        func ms(_ x: Double) -> String { String(Double(Int(x * 100)) / 100) }
        return "median \(ms(percentile(50))) ms, p99 \(ms(percentile(99))) ms, min \(ms(values.first ?? .nan)), max \(ms(values.last ?? .nan)) (n=\(values.count))"
    }
}
