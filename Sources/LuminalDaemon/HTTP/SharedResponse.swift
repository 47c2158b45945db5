/// One whole HTTP response, built once and written to every connection it answers: the
/// connections that share a reading of the metrics keep a reference and an offset each, never a
/// copy, so unread responses cost one copy per reading, not one per client.
final class SharedResponse: Sendable {
    /// The status line, the headers and the body.
    let bytes: [UInt8]
    /// Where the body begins: what a `HEAD` request is sent.
    let headLength: Int

    /// `status` with `body` (`Connection: close`: one request per connection).
    convenience init(_ status: HTTPStatus, _ body: String, contentType: String = "text/plain; charset=utf-8", extraHeaders: String = "") {
        self.init(status, body: Array(body.utf8), contentType: contentType, extraHeaders: extraHeaders)
    }

    /// `status` with `body`, given as UTF-8 (`Connection: close`: one request per connection).
    init(_ status: HTTPStatus, body: [UInt8], contentType: String = "text/plain; charset=utf-8", extraHeaders: String = "") {
        let head = "HTTP/1.1 \(status.rawValue) \(status.reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\(extraHeaders)Connection: close\r\n\r\n"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(head.utf8.count + body.count)
        bytes += head.utf8
        bytes += body
        self.bytes = bytes
        headLength = head.utf8.count
    }
}
