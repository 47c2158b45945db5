/// Waits for a photon file to be quiet before acting on it: editors and linkers write in bursts
/// (temp file + rename, truncate + write, many writes), so a file is acted on only once no change
/// has been seen for `quietPeriod`.
struct ChangeDebouncer: Sendable {
    /// How long a file must stay unchanged.
    let quietPeriod: Duration
    private var lastChange: [String: Duration] = [:]

    init(quietPeriod: Duration) {
        self.quietPeriod = quietPeriod
    }

    /// Notes a change of `path` at `now` (time on the watcher's clock).
    mutating func record(_ path: String, at now: Duration) {
        lastChange[path] = now
    }

    /// The paths quiet since `quietPeriod` before `now`, in path order; they are forgotten.
    mutating func settled(at now: Duration) -> [String] {
        let ready = lastChange.filter { now - $0.value >= quietPeriod }.keys.sorted()
        ready.forEach { lastChange[$0] = nil }
        return ready
    }

    /// When the next path will be quiet, if any change is waiting.
    var nextDeadline: Duration? {
        lastChange.values.min().map { $0 + quietPeriod }
    }
}
