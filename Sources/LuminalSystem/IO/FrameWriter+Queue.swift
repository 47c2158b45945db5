extension FrameWriter {
    /// A writer's descriptor and the frames waiting for it.
    package struct State {
        package var fd: Int32
        package var token: EventLoop.Token?
        /// `frames[head...]` wait, oldest first; `written` bytes of `frames[head]` are written.
        /// A withdrawn or written frame is left empty until the array is reset.
        private var frames: [Queued] = []
        private var head = 0
        private var written = 0
        /// `frames[..<taken]` are in the writer's hands, being written: they cannot be withdrawn.
        private var taken = 0
        /// Where each tagged frame not yet started is: its index plus `base`.
        private var positions: [Int64: Int] = [:]
        /// How many frames the array dropped from its front since the writer was made.
        private var base = 0
        /// Unwritten bytes of the waiting frames.
        private(set) var queuedBytes = 0
        var closeWhenFlushed = false
        var roomWaiters = RoomWaiters()
        /// A sender is writing its frame, outside the lock: nothing else writes meanwhile.
        var writing = false
        /// The descriptor, closed while a sender was writing to it: closed once the write returns
        /// (its number must not be reused under the write).
        private var closedWhileWriting: Int32?

        package init(fd: Int32) {
            self.fd = fd
        }

        private struct Queued {
            var tag: Int64?
            var bytes: [UInt8]
        }

        /// Queues `frame`, of which `written` bytes are already written.
        package mutating func append(_ frame: [UInt8], tag: Int64?, written: Int) {
            if queuedBytes == 0 {
                // Only written or withdrawn frames are left: start afresh.
                base += frames.count
                frames.removeAll(keepingCapacity: true)
                head = 0
                taken = 0
                self.written = written
            }
            if let tag { positions[tag] = base + frames.count }
            frames.append(Queued(tag: tag, bytes: frame))
            queuedBytes += frame.count - written
        }

        /// Puts `frame`, of which `written` bytes are written, ahead of every queued frame: a
        /// sender's frame that the pipe took only part of, while others queued theirs.
        mutating func prepend(_ frame: [UInt8], written: Int) {
            guard queuedBytes > 0 else { return append(frame, tag: nil, written: written) }
            // Nothing was written from the queue meanwhile: its head frame is untouched.
            if head > 0 {
                head -= 1
                frames[head] = Queued(tag: nil, bytes: frame)
            } else {
                frames.insert(Queued(tag: nil, bytes: frame), at: 0)
                base -= 1
            }
            self.written = written
            taken = head
            queuedBytes += frame.count - written
        }

        /// After a sender's write: closes the descriptor if the writer was closed meanwhile; true
        /// if it was.
        mutating func closeDeferred() -> Bool {
            guard let fd = closedWhileWriting else { return false }
            closedWhileWriting = nil
            closeQuietly(fd)
            return true
        }

        /// Drops the frame tagged `tag` if none of it is written; true if it was dropped.
        package mutating func withdraw(_ tag: Int64) -> Bool {
            guard let position = positions.removeValue(forKey: tag) else { return false }
            let index = position - base
            guard index >= taken, index > head || (index == head && written == 0) else { return false }
            queuedBytes -= frames[index].bytes.count
            frames[index].bytes = []
            return true
        }

        /// Hands the writer what to write next: the head frame alone when it is large, else as
        /// many whole small frames as fit in `size` bytes; and the offset in it to write from.
        /// They stay queued (until `consume`) but can no longer be withdrawn. Nil when none wait.
        mutating func takeBatch(upTo size: Int) -> ([UInt8], Int)? {
            while head < frames.count, frames[head].bytes.isEmpty { head += 1 }
            guard head < frames.count else { return nil }
            let first = frames[head].bytes
            var next = head + 1
            defer { taken = next }
            guard first.count - written < size, next < frames.count else { return (first, written) }
            var batch = Array(first[written...])
            while next < frames.count, batch.count + frames[next].bytes.count <= size {
                batch += frames[next].bytes
                next += 1
            }
            return (batch, 0)
        }

        /// Marks `count` more bytes written, from the head on.
        mutating func consume(_ count: Int) {
            queuedBytes -= count
            var left = count
            while left > 0 || (head < frames.count && frames[head].bytes.isEmpty) {
                guard head < frames.count else { break }
                let rest = frames[head].bytes.count - written
                if let tag = frames[head].tag { positions[tag] = nil }
                if left < rest {
                    written += left
                    break
                }
                left -= rest
                frames[head].bytes = []
                head += 1
                written = 0
            }
            // What the writer took and did not write can be withdrawn again.
            taken = head
            if head == frames.count || (head >= 1024 && head * 2 >= frames.count) {
                // Drop the finished front, at a cost no more than the frames that passed it.
                base += head
                frames.removeFirst(head)
                head = 0
                taken = 0
            }
        }

        /// Closes the descriptor and drops every queued frame; room waiters stay for the caller.
        /// While a sender writes to it, the descriptor is closed once its write returns.
        package mutating func close() {
            guard fd >= 0 else { return }
            token.map(EventLoop.shared.remove)
            if writing { closedWhileWriting = fd } else { closeQuietly(fd) }
            var closed = State(fd: -1)
            closed.roomWaiters = roomWaiters
            closed.writing = writing
            closed.closedWhileWriting = closedWhileWriting
            self = closed
        }
    }
}
