#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import LuminalSystem
import LuminalWire
import Synchronization

/// Writes the log to files (`LogFileOptions`): each photon file's output to a file of its own,
/// the supervisor's records to `luminal.log`, on a queue of its own.
///
/// Never blocks whoever logs: at most `capacity` records and `byteCapacity` bytes wait; past
/// that, records are dropped and counted (`dropped`). The folder is opened through
/// `OwnedFolder` (every folder on its path owned by root or this user and writable by no one
/// else) and every file in it without following a symlink (`RotatingFile`). A folder that
/// disappears, is replaced or cannot be written, a full disk, or a file that is refused (a
/// symlink, FIFO or hard link planted there) drops the lines it refuses, and is reported through
/// `report` once when it begins and once when it is over (`FailureEpisodes`), for the folder and
/// for each file apart. A removed folder is made again; a removed file is opened again within a
/// second.
package final class LogFiles: Sendable {
    /// Records that may wait to be written before newer ones are dropped (bursts of a hundred
    /// busy workers fit).
    package static let capacity = 100_000
    /// Bytes of text that may wait to be written before newer records are dropped.
    package static let byteCapacity = 16 * 1024 * 1024
    /// The mode of a log folder Luminal makes.
    static let folderMode: mode_t = 0o750

    package let options: LogFileOptions
    private let report: @Sendable (LogLevel, String) -> Void
    private let queue = DispatchQueue(label: "luminal.log-files")
    private let backlog = BoundedBacklog(records: LogFiles.capacity, bytes: LogFiles.byteCapacity)
    /// Records the disk or the folder refused.
    private let refusedRecords = Atomic<Int>(0)
    // Only touched on `queue`.
    /// Records taken off the queue and not yet written: written when the queue has no more.
    nonisolated(unsafe) private var pending: [(Double, LogRecord)] = []
    /// The log folder, while it is open; opened again (and checked again) when it is not.
    nonisolated(unsafe) private var folder: OwnedFolder?
    nonisolated(unsafe) private var files: [String: RotatingFile] = [:]
    /// The failures being reported: the folder's (key `""`) and each log's (its file name).
    nonisolated(unsafe) private var episodes = FailureEpisodes()
    nonisolated(unsafe) private var lastCheck: UInt64 = 0
    /// The log file name of each photon file written to lately (worked out once, not per line).
    nonisolated(unsafe) private var names: [String: String] = [:]
    /// The whole second the text timestamps were last written for, and their text up to it.
    nonisolated(unsafe) private var stamp: (second: Int, text: String) = (-1, "")
    /// The most names `names` keeps; past it they are worked out again.
    static let nameCacheLimit = 4096

    /// Writes with `options`; `report` is told (once) when writing fails and when it works again.
    package init(options: LogFileOptions, report: @escaping @Sendable (LogLevel, String) -> Void) {
        self.options = options
        self.report = report
        // A folder that cannot be opened is reported at the first write.
        folder = try? OwnedFolder.open(options.directory, creating: Self.folderMode)
    }

    /// Records dropped: not written because too many waited, or refused by the disk or the folder.
    package var dropped: Int { backlog.refused + refusedRecords.load(ordering: .relaxed) }

    /// Queues `record` to be written, or drops it.
    package func submit(_ record: LogRecord) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let time = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        let size = record.message.utf8.count
        guard backlog.admit(size: size) else { return }
        queue.async { [self] in
            pending.append((time, record))
            // Written in batches: when nothing more waits, or every 4,096 records.
            guard backlog.leave(size: size) == 0 || pending.count >= 4096 else { return }
            write(pending)
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// Waits until every queued record was written (or dropped).
    package func flush() {
        queue.sync {}
    }

    private func write(_ batch: [(Double, LogRecord)]) {
        let now = Uptime.now()
        if now &- lastCheck > 1_000_000_000 {
            lastCheck = now
            checkStillThere()
        }
        var lines: [String: [[UInt8]]] = [:]
        var order: [String] = []
        for (time, record) in batch {
            // Worker output goes to its photon file's log; the supervisor's own records to its log.
            let name = fileName(for: record.tag == nil ? nil : record.file)
            if lines[name] == nil { order.append(name) }
            lines[name, default: []].append(format(record, at: time))
        }
        var lost = 0
        for name in order {
            var result: (written: Int, error: SystemError?)
            do throws(SystemError) {
                result = file(named: name).write(lines[name]!, in: try openFolder())
                if result.error?.errno == ENOENT {
                    // The folder went: make it again and try once more.
                    dropFolder()
                    result = file(named: name).write(lines[name]!, in: try openFolder())
                }
                if let episode = episodes.succeeded("", at: now) {
                    report(.info, "writing the log files in \(options.directory) again (it had failed: \(episode.error); \(episode.dropped) lines were dropped)")
                }
            } catch {
                lost += lines[name]!.count
                if episodes.failed("", error, dropped: lines[name]!.count, at: now) {
                    report(.error, "cannot write the log files in \(options.directory): \(error); lines are dropped (and counted) until it works again, and no worker waits for it")
                }
                continue
            }
            let refused = lines[name]!.count - result.written
            lost += refused
            let path = Paths.join(options.directory, name)
            if let error = result.error {
                if episodes.failed(name, error, dropped: refused, at: now) {
                    report(.error, "cannot write the log file \(path): \(error); its lines are dropped (and counted) until it works again, and no worker waits for it")
                }
            } else if let episode = episodes.succeeded(name, at: now) {
                report(.info, "writing the log file \(path) again (it had failed: \(episode.error); \(episode.dropped) lines were dropped)")
            }
        }
        if lost > 0 { refusedRecords.wrappingAdd(lost, ordering: .relaxed) }
    }

    /// The log folder, opened (made, checked) again if it is not open.
    private func openFolder() throws(SystemError) -> OwnedFolder {
        if let folder { return folder }
        let opened = try OwnedFolder.open(options.directory, creating: Self.folderMode)
        folder = opened
        return opened
    }

    /// Forgets the folder and closes its files: the next write opens them again by path.
    private func dropFolder() {
        folder = nil
        files = [:]
    }

    /// Drops the folder if its path no longer names it (removed, renamed, replaced), and closes
    /// each file its name no longer names, so that the next write opens them again.
    private func checkStillThere() {
        guard let folder else { return }
        var atPath = stat(), open = stat()
        guard stat(options.directory, &atPath) == 0, fstat(folder.fd, &open) == 0,
              atPath.st_dev == open.st_dev, atPath.st_ino == open.st_ino else { return dropFolder() }
        files.values.forEach { $0.checkStillThere(in: folder) }
    }

    /// The log file name for the photon file at `path` (nil: the supervisor's own log).
    private func fileName(for path: String?) -> String {
        guard let path else { return options.logName(for: nil) + ".log" }
        if let name = names[path] { return name }
        if names.count >= Self.nameCacheLimit { names.removeAll(keepingCapacity: true) }
        let name = options.logName(for: path) + ".log"
        names[path] = name
        return name
    }

    private func file(named name: String) -> RotatingFile {
        if let file = files[name] { return file }
        let file = RotatingFile(name: name, maxBytes: options.maxBytes, keep: options.keep)
        files[name] = file
        return file
    }

    /// One line, with its newline, in UTF-8.
    private func format(_ record: LogRecord, at time: Double) -> [UInt8] {
        switch options.format {
        case .text:
            let prefix = timestamp(time)
            guard let tag = record.tag else {
                return Array("\(prefix) luminal: \(record.level): \(LogText.indentingContinuations(record.message))\n".utf8)
            }
            // A worker's line, the most frequent: its bytes put together without an interpolated string.
            var line: [UInt8] = []
            line.reserveCapacity(prefix.utf8.count + tag.utf8.count + record.message.utf8.count + 5)
            line += prefix.utf8
            line += " [".utf8
            line += tag.utf8
            line += "] ".utf8
            line += record.message.utf8
            line.append(UInt8(ascii: "\n"))
            return line
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
            return Array((JSONValue.object(object).description + "\n").utf8)
        }
    }

    /// `2026-12-01T15:07:25.123Z`; the part up to the second is worked out once a second.
    private func timestamp(_ time: Double) -> String {
        let second = Int(time.rounded(.down))
        if second != stamp.second { stamp = (second, Self.secondText(second)) }
        let millis = Int((time - time.rounded(.down)) * 1000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return stamp.text + fraction + "Z"
    }

    /// `2026-12-01T15:07:25.`: the timestamp of `second` (since the epoch) up to its fraction.
    static func secondText(_ second: Int) -> String {
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
    }
}
