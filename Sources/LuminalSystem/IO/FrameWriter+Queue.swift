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
        /// Where each tagged frame not yet started is: its index plus `base`.
        private var positions: [Int64: Int] = [:]
        /// How many frames the array dropped from its front since the writer was made.
        private var base = 0
        /// Unwritten bytes of the waiting frames.
        private(set) var queuedBytes = 0
        var closeWhenFlushed = false
        var roomWaiters = RoomWaiters()

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
                self.written = written
            }
            if let tag { positions[tag] = base + frames.count }
            frames.append(Queued(tag: tag, bytes: frame))
            queuedBytes += frame.count - written
        }

        /// Drops the frame tagged `tag` if none of it is written; true if it was dropped.
        package mutating func withdraw(_ tag: Int64) -> Bool {
            guard let position = positions.removeValue(forKey: tag) else { return false }
            let index = position - base
            guard index > head || (index == head && written == 0) else { return false }
            queuedBytes -= frames[index].bytes.count
            frames[index].bytes = []
            return true
        }

        /// What to write next: the head frame alone when it is large, else as many whole small
        /// frames as fit in `size` bytes; and the offset in it to write from. Nil when none wait.
        mutating func nextBatch(upTo size: Int) -> ([UInt8], Int)? {
            while head < frames.count, frames[head].bytes.isEmpty { head += 1 }
            guard head < frames.count else { return nil }
            let first = frames[head].bytes
            guard first.count - written < size else { return (first, written) }
            var batch = Array(first[written...])
            var next = head + 1
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
            if head == frames.count || (head >= 1024 && head * 2 >= frames.count) {
                // Drop the finished front, at a cost no more than the frames that passed it.
                base += head
                frames.removeFirst(head)
                head = 0
            }
        }

        /// Closes the descriptor and drops every queued frame; room waiters stay for the caller.
        package mutating func close() {
            guard fd >= 0 else { return }
            token.map(EventLoop.shared.remove)
            closeQuietly(fd)
            let waiters = roomWaiters
            self = State(fd: -1)
            roomWaiters = waiters
        }
    }
}
