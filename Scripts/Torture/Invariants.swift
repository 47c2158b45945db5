/// The invariants checked on every census while the run lasts; `check` returns the first broken one.
///
/// - no zombie: a child seen as a zombie in three censuses in a row (its exit was not reaped);
/// - children bounded: at most two generations per photon file (a reload's old and new) and two more;
/// - descriptors bounded: at most twelve per photon file (two generations' pipes and pidfds) over
///   the baseline, and 32 more;
/// - resident memory not growing: after the warm-up, never above the warm-up's peak by more than
///   a quarter of it and 8 MiB.
struct Invariants {
    let photonFiles: Int
    let baselineDescriptors: Int
    let warmUp: Duration
    let began = ContinuousClock.now
    private(set) var warmPeakBytes = 0
    private var zombieStreaks: [Int32: Int] = [:]

    init(photonFiles: Int, warmUp: Duration) {
        self.photonFiles = photonFiles
        self.warmUp = warmUp
        baselineDescriptors = ProcessCensus.now().descriptors
    }

    var maxChildren: Int { 2 * photonFiles + 2 }
    var maxDescriptors: Int { baselineDescriptors + 12 * photonFiles + 32 }
    var warm: Bool { began.duration(to: .now) >= warmUp }
    var memoryLimit: Int { warmPeakBytes + warmPeakBytes / 4 + 8 << 20 }

    mutating func check(_ census: ProcessCensus) -> String? {
        zombieStreaks = census.zombies.reduce(into: [:]) { streaks, pid in streaks[pid] = (zombieStreaks[pid] ?? 0) + 1 }
        if let (pid, _) = zombieStreaks.first(where: { $0.value >= 3 }) {
            return "zombie: child \(pid) exited and was not reaped in three censuses in a row"
        }
        if census.children.count > maxChildren {
            return "children: \(census.children.count) child processes, more than \(maxChildren) (pids \(census.children.sorted()))"
        }
        if census.descriptors > maxDescriptors {
            return "descriptors: \(census.descriptors) open, more than \(maxDescriptors) (baseline \(baselineDescriptors))"
        }
        if !warm {
            warmPeakBytes = max(warmPeakBytes, census.residentBytes)
        } else if census.residentBytes > memoryLimit {
            return "memory: resident \(census.residentBytes >> 20) MiB, above the warm-up peak \(warmPeakBytes >> 20) MiB by more than a quarter and 8 MiB"
        }
        return nil
    }
}
