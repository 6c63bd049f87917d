import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exclusive `<data dir>/.lock`: an `flock(LOCK_EX | LOCK_NB)` held for the manager's lifetime, with the
/// holder's pid written inside so that a refused opener can name it.
///
/// `flock` locks belong to the open file description, so a second open of the file — in another process or in this
/// one — is refused. The lock is released when the handle's fd is closed (`release()` or deinit).
final class DirectoryLock: Sendable {
    let path: String
    private let handle: SegmentFileHandle

    /// Takes the lock.
    /// - Throws: `StorageError.directoryLocked(path:holderPid:)` when held elsewhere; `.io` otherwise.
    init(directory: String) throws(StorageError) {
        path = directory + "/.lock"
        let handle = try SegmentFileHandle.open(path: path, create: true)
        while flock(handle.fileDescriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK || code == EAGAIN {
                throw .directoryLocked(path: directory, holderPid: Self.holderPid(handle))
            }
            throw .io(operation: "flock", path: path, errno: code)
        }
        try handle.truncate(to: 0)
        var text = ByteBufferAllocator().buffer(capacity: 16)
        text.writeString("\(getpid())\n")
        try handle.write(text, at: 0)
        self.handle = handle
    }

    /// The pid written in the lock file by its holder, if readable.
    private static func holderPid(_ handle: SegmentFileHandle) -> Int32? {
        guard var bytes = try? handle.read(at: 0, length: 32),
            let text = bytes.readString(length: bytes.readableBytes)
        else { return nil }
        return Int32(text.trimmingSpaces.split(separator: "\n").first.map(String.init) ?? "")
    }

    /// Releases the lock now (closing the fd also releases it).
    func release() {
        _ = flock(handle.fileDescriptor, LOCK_UN)
    }
}
