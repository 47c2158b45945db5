/// Decides when a changed photon file is acted on. A finished save (a rename into place, the last
/// close of a file written) is acted on at once; anything else waits until the file has been
/// quiet for `quietPeriod`, because editors and linkers write in bursts (truncate + write, many
/// writes, a removal before the new file comes) and the polling backend cannot tell.
struct ChangeDebouncer: Sendable {
    /// A photon file ready to be acted on.
    struct Settled: Sendable, Hashable {
        let path: String
        /// Whether a finished save made it ready before its quiet period: what it finds gone or
        /// unusable may still be on its way, so such an outcome waits for the quiet period.
        let early: Bool
    }

    /// How long a file must stay unchanged when its change is not a finished save.
    let quietPeriod: Duration
    /// The last change of each waiting path, and whether that change finished a save.
    private var waiting: [String: (at: Duration, finished: Bool)] = [:]

    init(quietPeriod: Duration) {
        self.quietPeriod = quietPeriod
    }

    /// Notes a change of `path` at `now` (time on the watcher's clock).
    mutating func record(_ path: String, _ kind: FileChange.Kind, at now: Duration) {
        switch kind {
        case .finished: waiting[path] = (now, true)
        case .ongoing: waiting[path] = (now, false)
        case .metadata: if waiting[path] == nil { waiting[path] = (now, false) }
        }
    }

    /// The paths ready at `now`, in path order; they are forgotten.
    mutating func settled(at now: Duration) -> [Settled] {
        let ready = waiting.filter { $0.value.finished || now - $0.value.at >= quietPeriod }
            .map { Settled(path: $0.key, early: $0.value.finished && now - $0.value.at < quietPeriod) }
            .sorted { $0.path < $1.path }
        ready.forEach { waiting[$0.path] = nil }
        return ready
    }

    /// When the next path will be ready, if any change is waiting.
    var nextDeadline: Duration? {
        waiting.values.map { $0.finished ? $0.at : $0.at + quietPeriod }.min()
    }
}
