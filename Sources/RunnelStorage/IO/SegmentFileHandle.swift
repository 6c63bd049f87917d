import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reference-counted owner of one open file descriptor (a segment's `.log`, or an index file).
///
/// The descriptor is closed in `deinit`, i.e. when the last reference goes away. A `FileSlice` holds a strong
/// reference, so a segment that is rolled, deleted (renamed `.deleted` and unlinked) or closed keeps a valid fd for
/// as long as any slice of it is alive: `sendfile` on a slice never sees a reused or closed descriptor.
///
/// Thread-safety: immutable; `pread`/`pwrite`/`fsync`/`ftruncate` on one fd are safe from any thread. Ordering of
/// writes against reads is the job of `PartitionLog`'s lock (readers only read below a size taken under it).
///
/// This file holds the module's only unsafe pointer code outside `MappedFile.swift`: `read(at:length:)` and
/// `write(_:at:fault:)` hand the kernel the bytes of a `ByteBuffer`, never beyond its readable/writable range.
public final class SegmentFileHandle: Sendable {
    /// The open descriptor (valid until this object is deinitialised).
    public let fileDescriptor: Int32
    /// The path the file was opened at (it may since have been renamed or unlinked); for messages only.
    public let path: String

    private init(fileDescriptor: Int32, path: String) {
        self.fileDescriptor = fileDescriptor
        self.path = path
    }

    deinit { _ = close(fileDescriptor) }

    /// Opens `path` read-write. `create`: create it if absent; `exclusive`: fail if it exists.
    /// - Throws: `StorageError.io(operation: "open", ...)`.
    static func open(path: String, create: Bool, exclusive: Bool = false) throws(StorageError) -> SegmentFileHandle {
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        let fd = path.withCString { posixOpen($0, flags, 0o644) }
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        return SegmentFileHandle(fileDescriptor: fd, path: path)
    }

    /// The current file length in bytes (`fstat`).
    func size() throws(StorageError) -> Int64 {
        var info = stat()
        guard fstat(fileDescriptor, &info) == 0 else { throw .io(operation: "fstat", path: path, errno: errno) }
        return Int64(info.st_size)
    }

    /// Last modification time in ms since the epoch (`fstat`), used by retention for segments without timestamps.
    func modificationTimeMs() throws(StorageError) -> Int64 {
        var info = stat()
        guard fstat(fileDescriptor, &info) == 0 else { throw .io(operation: "fstat", path: path, errno: errno) }
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// Sets the last modification time to `ms` since the epoch (`futimens`): a cleaned segment keeps the mtime of
    /// the last segment it replaces, as Kafka does, so mtime-based retention does not restart.
    func setModificationTime(ms: Int64) throws(StorageError) {
        var time = timespec()
        time.tv_sec = time_t(ms / 1000)
        time.tv_nsec = Int((ms % 1000) * 1_000_000)
        let times = [time, time]  // access and modification
        guard futimens(fileDescriptor, times) == 0 else { throw .io(operation: "futimens", path: path, errno: errno) }
    }

    /// Reads up to `length` bytes at `position`; returns fewer only at end of file.
    /// - Throws: `StorageError.io(operation: "pread", ...)`.
    func read(at position: Int64, length: Int) throws(StorageError) -> ByteBuffer {
        precondition(length >= 0 && position >= 0, "negative read")
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        var done = 0
        var failure: Int32 = 0
        while done < length {
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length - done) { raw -> Int in
                // `raw` spans at least `length - done` writable bytes: we never ask for more.
                let n = pread(fileDescriptor, raw.baseAddress, length - done, off_t(position) + off_t(done))
                if n < 0 { failure = errno; return 0 }
                return n
            }
            if failure == EINTR { failure = 0; continue }
            if failure != 0 { throw .io(operation: "pread", path: path, errno: failure) }
            if got == 0 { break }  // end of file
            done += got
        }
        return buffer
    }

    /// Writes all readable bytes of `buffer` at `position` with one `pwrite` (looping only on a short write).
    /// `fault` (tests only) makes the call write `bytesBeforeFailure` bytes and then fail with its errno.
    /// On failure some prefix may have been written: the caller truncates it away.
    /// - Throws: `StorageError.io(operation: "pwrite", ...)`.
    func write(_ buffer: ByteBuffer, at position: Int64, fault: WriteFault? = nil) throws(StorageError) {
        let total = buffer.readableBytes
        var failure: Int32 = 0
        buffer.withUnsafeReadableBytes { raw in
            var done = 0
            let limit = fault.map { min($0.bytesBeforeFailure, total) } ?? total
            while done < limit {
                // Pointer arithmetic stays within `raw` because done < limit <= raw.count.
                let n = pwrite(fileDescriptor, raw.baseAddress.map { $0 + done }, limit - done, off_t(position) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { failure = EIO; return }
                done += n
            }
            if let fault, done < total { failure = fault.errno }
        }
        if failure != 0 { throw .io(operation: "pwrite", path: path, errno: failure) }
    }

    /// `fsync`: data and metadata of this file reach the disk. Blocking.
    /// - Throws: `StorageError.io(operation: "fsync", ...)`.
    func sync() throws(StorageError) {
        while fsync(fileDescriptor) != 0 {
            if errno == EINTR { continue }
            throw .io(operation: "fsync", path: path, errno: errno)
        }
    }

    /// Sets the file length to `length` bytes (`ftruncate`; growing fills with zeros).
    func truncate(to length: Int64) throws(StorageError) {
        while ftruncate(fileDescriptor, off_t(length)) != 0 {
            if errno == EINTR { continue }
            throw .io(operation: "ftruncate", path: path, errno: errno)
        }
    }
}

/// A fault to inject into the next write (tests of the full-disk path).
package struct WriteFault: Sendable {
    /// Bytes that really reach the file before the failure.
    package var bytesBeforeFailure: Int
    /// The errno reported (ENOSPC for a full disk).
    package var errno: Int32

    package init(bytesBeforeFailure: Int, errno: Int32) {
        self.bytesBeforeFailure = bytesBeforeFailure
        self.errno = errno
    }
}
