#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-write, shared memory mapping of a whole file: the storage of the offset and time indexes.
///
/// All `mmap`/`munmap` code of the module lives here. Invariants (checked by `checkInvariants()` when built with
/// `STORAGE_INTERNAL_CHECKS`):
/// - `base == nil` ⇔ `length == 0` (a zero-length file cannot be mapped); otherwise `base` is a `MAP_SHARED`
///   mapping of bytes [0, length) of `file`.
/// - The file is never shorter than `length` while mapped: `resize(to:)` unmaps *before* it shrinks the file, so no
///   access can hit a page past end of file (which would raise SIGBUS).
/// - Every load/store checks `offset >= 0 && offset + width <= length` with a precondition: offsets come from
///   entry counts that the index types bound by their capacity, so a failure is a programming error.
/// - The mapping lives until `unmap()` or `deinit`; no pointer escapes this type.
///
/// Thread-safety: none. An index (and so its mapping) belongs to one `LogSegment`, which is only touched under its
/// `PartitionLog`'s lock. Writes reach the page cache immediately; `fsync` on `file` makes them durable.
final class MappedFile {
    /// The mapped file (its descriptor is kept open for `fsync`/`ftruncate`).
    let file: SegmentFileHandle
    /// Mapped bytes = file length.
    private(set) var length: Int
    private var base: UnsafeMutableRawPointer?

    /// Maps `file`, first setting its length to `length` bytes (zero-filled when it grows).
    /// - Throws: `StorageError.io` from `ftruncate`/`mmap`.
    init(file: SegmentFileHandle, length: Int) throws(StorageError) {
        self.file = file
        self.length = 0
        self.base = nil
        try file.truncate(to: Int64(length))
        try map(length: length)
    }

    deinit { unmap() }

    /// Changes the file length to `newLength` bytes and remaps it. Unmaps first, so shrinking is safe.
    func resize(to newLength: Int) throws(StorageError) {
        precondition(newLength >= 0, "negative mapping length")
        unmap()
        try file.truncate(to: Int64(newLength))
        try map(length: newLength)
    }

    /// Releases the mapping (idempotent). Later loads/stores trap.
    func unmap() {
        if let base { _ = munmap(base, length) }
        base = nil
        length = 0
    }

    /// Big-endian Int32 at byte `offset`.
    func loadInt32(at offset: Int) -> Int32 {
        Int32(bigEndian: pointer(at: offset, width: 4).loadUnaligned(as: Int32.self))
    }

    /// Big-endian Int64 at byte `offset`.
    func loadInt64(at offset: Int) -> Int64 {
        Int64(bigEndian: pointer(at: offset, width: 8).loadUnaligned(as: Int64.self))
    }

    /// Stores `value` big-endian at byte `offset`.
    func store(_ value: Int32, at offset: Int) {
        pointer(at: offset, width: 4).storeBytes(of: value.bigEndian, as: Int32.self)
    }

    /// Stores `value` big-endian at byte `offset`.
    func store(_ value: Int64, at offset: Int) {
        pointer(at: offset, width: 8).storeBytes(of: value.bigEndian, as: Int64.self)
    }

    /// Traps if an invariant is broken (debug/CI builds only).
    func checkInvariants() {
        #if STORAGE_INTERNAL_CHECKS
        precondition((base == nil) == (length == 0), "mapping presence disagrees with its length")
        if let fileLength = try? file.size() {
            precondition(fileLength >= Int64(length), "file shorter than its mapping: SIGBUS hazard")
        }
        #endif
    }

    // MARK: - Private

    private func map(length newLength: Int) throws(StorageError) {
        guard newLength > 0 else {
            base = nil
            length = 0
            return
        }
        let address = mmap(nil, newLength, PROT_READ | PROT_WRITE, MAP_SHARED, file.fileDescriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw .io(operation: "mmap", path: file.path, errno: errno)
        }
        base = address
        length = newLength
        checkInvariants()
    }

    private func pointer(at offset: Int, width: Int) -> UnsafeMutableRawPointer {
        guard let base, offset >= 0, offset + width <= length else {
            preconditionFailure("mapped access [\(offset), \(offset + width)) outside [0, \(length)) of \(file.path)")
        }
        return base + offset
    }
}
