#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

/// How serious a log record is.
public enum LogLevel: Int, Sendable, Comparable, CustomStringConvertible {
    /// Details for debugging.
    case debug
    /// Normal operation.
    case info
    /// Something was skipped or went wrong without failing the operation.
    case warning
    /// An operation failed.
    case error

    /// Lowercase name.
    public var description: String { ["debug", "info", "warning", "error"][rawValue] }

    /// Orders by severity.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One human-readable log record.
public struct LogRecord: Sendable {
    /// Severity.
    public let level: LogLevel
    /// The text.
    public let message: String
    /// The photon file concerned, if any.
    public let file: String?
    /// The photon it is tagged with (for worker output: the file's photons, joined by ",").
    public let tag: String?
    /// For worker output: the stream it was written on.
    public var stream: OutputStream?

    package init(level: LogLevel, message: String, file: String?, tag: String?, stream: OutputStream? = nil) {
        self.level = level
        self.message = message
        self.file = file
        self.tag = tag
        self.stream = stream
    }
}

/// Where log records go.
public typealias LogSink = @Sendable (LogRecord) -> Void

/// The loader's logger: off unless `logging`, to `sink` or standard error, through a bounded
/// queue so that a slow sink drops (and counts) lines instead of blocking workers.
package struct Logger: Sendable {
    package let enabled: Bool
    package let queue: LogQueue
    /// The log files, when asked for (`LoaderConfiguration.logFiles`): every record goes there too.
    package let files: LogFiles?
    /// The rate limit of lines something outside can trigger over and over (`limited`).
    let limiter: WarningLimiter

    package init(enabled: Bool, sink: LogSink?, files options: LogFileOptions? = nil) {
        self.enabled = enabled
        let limiter = WarningLimiter()
        let queue = LogQueue(sink: sink ?? Logger.standardError, limiter: limiter)
        self.queue = queue
        self.limiter = limiter
        files = options.map { options in
            LogFiles(options: options) { level, text in queue.submit(LogRecord(level: level, message: text, file: nil, tag: nil)) }
        }
    }

    func callAsFunction(_ level: LogLevel, _ message: String, file: String? = nil, tag: String? = nil, stream: OutputStream? = nil) {
        guard enabled else { return }
        let record = LogRecord(level: level, message: message, file: file, tag: tag, stream: stream)
        queue.submit(record)
        files?.submit(record)
    }

    /// Logs `message` within the rate limit of lines of `kind` about `subject` (`WarningLimiter`):
    /// a line over it is counted, and the next one written says how many were suppressed.
    package func limited(_ level: LogLevel, _ kind: String, subject: String = "", _ message: String, file: String? = nil) {
        guard enabled, let suppressed = limiter.admit(kind, subject: subject) else { return }
        callAsFunction(level, WarningLimiter.noting(suppressed, message), file: file)
    }

    /// Waits until every record so far reached the sink and the log files.
    package func flush() {
        queue.flush()
        files?.flush()
    }

    /// Writes "[tag] message" or "luminal: level: message" lines to standard error.
    static let standardError: LogSink = { record in
        let line = record.tag.map { "[\($0)] \(record.message)\n" }
            ?? "luminal: \(record.level): \(LogText.indentingContinuations(record.message))\n"
        writeStandardError(line)
    }
}
