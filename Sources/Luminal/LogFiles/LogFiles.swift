#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import LuminalWire
import Synchronization

/// Writes the log to files (`LogFileOptions`): each photon file's output to a file of its own,
/// the supervisor's records to `luminal.log`, on a queue of its own.
///
/// Never blocks whoever logs: at most `capacity` records and `byteCapacity` bytes wait; past
/// that, records are dropped and counted (`dropped`). A folder that disappears or cannot be
/// written, or a full disk, drops the lines it refuses and is reported once, through `report`,
/// until writing works again (a removed folder is made again; a removed file is opened again
/// within a second).
final class LogFiles: Sendable {
    /// Records that may wait to be written before newer ones are dropped (bursts of a hundred
    /// busy workers fit).
    static let capacity = 100_000
    /// Bytes of text that may wait to be written before newer records are dropped.
    static let byteCapacity = 16 * 1024 * 1024

    let options: LogFileOptions
    private let report: @Sendable (LogLevel, String) -> Void
    private let queue = DispatchQueue(label: "luminal.log-files")
    // Atomics, not a lock: a hundred workers' output threads submit at once.
    private let waitingRecords = Atomic<Int>(0)
    private let waitingBytes = Atomic<Int>(0)
    private let droppedRecords = Atomic<Int>(0)
    // Only touched on `queue`.
    /// Records taken off the queue and not yet written: written when the queue has no more.
    nonisolated(unsafe) private var pending: [(Double, LogRecord)] = []
    nonisolated(unsafe) private var files: [String: RotatingFile] = [:]
    /// The logs whose last write failed, and why.
    nonisolated(unsafe) private var failing: [String: SystemError] = [:]
    nonisolated(unsafe) private var lastCheck: UInt64 = 0

    /// Writes with `options`; `report` is told (once) when writing fails and when it works again.
    init(options: LogFileOptions, report: @escaping @Sendable (LogLevel, String) -> Void) {
        self.options = options
        self.report = report
        // A folder that cannot be made is reported at the first write.
        _ = mkdir(options.directory, 0o755)
    }

    /// Records dropped: not written because too many waited, or refused by the disk or the folder.
    var dropped: Int { droppedRecords.load(ordering: .relaxed) }

    /// Queues `record` to be written, or drops it.
    func submit(_ record: LogRecord) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let time = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        let size = record.message.utf8.count
        let records = waitingRecords.wrappingAdd(1, ordering: .relaxed).newValue
        let bytes = waitingBytes.wrappingAdd(size, ordering: .relaxed).newValue
        guard records <= Self.capacity, records == 1 || bytes <= Self.byteCapacity else {
            waitingRecords.wrappingSubtract(1, ordering: .relaxed)
            waitingBytes.wrappingSubtract(size, ordering: .relaxed)
            droppedRecords.wrappingAdd(1, ordering: .relaxed)
            return
        }
        queue.async { [self] in
            pending.append((time, record))
            waitingBytes.wrappingSubtract(size, ordering: .relaxed)
            // Written in batches: when nothing more waits, or every 4,096 records.
            guard waitingRecords.wrappingSubtract(1, ordering: .relaxed).newValue == 0 || pending.count >= 4096 else { return }
            write(pending)
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// Waits until every queued record was written (or dropped).
    func flush() {
        queue.sync {}
    }

    private func write(_ batch: [(Double, LogRecord)]) {
        let moment = Uptime.now()
        if moment &- lastCheck > 1_000_000_000 {
            lastCheck = moment
            files.values.forEach { $0.checkStillThere() }
        }
        var lines: [String: [[UInt8]]] = [:]
        var order: [String] = []
        for (time, record) in batch {
            // Worker output goes to its photon file's log; the supervisor's own records to its log.
            let name = options.logName(for: record.tag == nil ? nil : record.file)
            if lines[name] == nil { order.append(name) }
            lines[name, default: []].append(Array(format(record, at: time).utf8))
        }
        var lost = 0
        let wasFailing = failing
        for name in order {
            let file = file(named: name)
            var result = file.write(lines[name]!)
            if result.error?.errno == ENOENT {
                // The folder went: make it again and try once more.
                _ = mkdir(options.directory, 0o755)
                result = file.write(lines[name]!)
            }
            failing[name] = result.error
            lost += lines[name]!.count - result.written
        }
        // A log written to shows the folder is back: logs that could not be opened in it are
        // tried again at their next line, and no longer count as failing.
        if order.contains(where: { failing[$0] == nil }) {
            failing = failing.filter { name, error in order.contains(name) || !error.operation.hasPrefix("open ") }
        }
        if lost > 0 { droppedRecords.wrappingAdd(lost, ordering: .relaxed) }
        // Reported once when writing starts to fail, and once when every log works again.
        if wasFailing.isEmpty, let (_, failure) = failing.first {
            report(.error, "cannot write the log files in \(options.directory): \(failure); lines are dropped (and counted) until it works again, and no worker waits for it")
        } else if !wasFailing.isEmpty, failing.isEmpty, let (_, was) = wasFailing.first {
            report(.info, "writing the log files in \(options.directory) again (it had failed: \(was))")
        }
    }

    private func file(named name: String) -> RotatingFile {
        if let file = files[name] { return file }
        let file = RotatingFile(path: Paths.join(options.directory, name + ".log"), maxBytes: options.maxBytes, keep: options.keep)
        files[name] = file
        return file
    }

    /// One line, with its newline.
    private func format(_ record: LogRecord, at time: Double) -> String {
        switch options.format {
        case .text:
            let prefix = Self.timestamp(time)
            if let tag = record.tag { return "\(prefix) [\(tag)] \(record.message)\n" }
            return "\(prefix) luminal: \(record.level): \(record.message)\n"
        case .json:
            var object: [String: JSONValue] = ["time": .double(time), "text": .string(record.message)]
            if let tag = record.tag {
                object["photon"] = .string(tag)
                object["stream"] = .string((record.stream ?? .stdout).rawValue)
            } else {
                object["photon"] = .null
                object["stream"] = "luminal"
                object["level"] = .string(record.level.description)
            }
            if let file = record.file { object["file"] = .string(file) }
            return JSONValue.object(object).description + "\n"
        }
    }

    /// `2026-12-01T15:07:25.123Z`.
    static func timestamp(_ time: Double) -> String {
        var seconds = time_t(time.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int((time - time.rounded(.down)) * 1000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }
}
