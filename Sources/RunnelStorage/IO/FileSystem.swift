import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `open(2)` under a name that does not clash with the `open` methods of this module's types.
func posixOpen(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

/// `rename(2)` under a name that does not clash with `FileSystem.rename`.
func posixRename(_ from: UnsafePointer<CChar>, _ to: UnsafePointer<CChar>) -> Int32 {
    rename(from, to)
}

/// Directory and file-name operations with errno-carrying errors. Stateless; safe from any thread.
enum FileSystem {
    /// Whether something exists at `path` (`stat` succeeds).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Whether `path` is a directory.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates `path` (and missing parents) as a directory; succeeds if it already is one.
    static func createDirectory(_ path: String) throws(StorageError) {
        if isDirectory(path) { return }
        let parent = parentPath(path)
        if !parent.isEmpty, parent != path, !isDirectory(parent) { try createDirectory(parent) }
        if mkdir(path, 0o755) != 0, errno != EEXIST {
            throw .io(operation: "mkdir", path: path, errno: errno)
        }
    }

    /// Names in `path` (without "." and ".."), sorted.
    static func list(_ path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw .io(operation: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Atomic `rename(2)`.
    static func rename(_ from: String, to: String) throws(StorageError) {
        guard posixRename(from, to) == 0 else { throw .io(operation: "rename to \(to)", path: from, errno: errno) }
    }

    /// Removes a file; a missing file is not an error.
    static func removeFile(_ path: String) throws(StorageError) {
        if unlink(path) != 0, errno != ENOENT { throw .io(operation: "unlink", path: path, errno: errno) }
    }

    /// Removes `path` and everything below it; a missing path is not an error.
    static func removeTree(_ path: String) throws(StorageError) {
        guard exists(path) else { return }
        if isDirectory(path) {
            for name in try list(path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0, errno != ENOENT { throw .io(operation: "rmdir", path: path, errno: errno) }
        } else {
            try removeFile(path)
        }
    }

    /// `fsync` of a directory, so that creations, renames and deletions inside it are durable.
    static func syncDirectory(_ path: String) throws(StorageError) {
        let fd = posixOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw .io(operation: "open directory", path: path, errno: errno) }
        defer { close(fd) }
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw .io(operation: "fsync directory", path: path, errno: errno)
        }
    }

    /// Reads a whole (small) file as bytes.
    static func readFile(_ path: String) throws(StorageError) -> [UInt8] {
        let handle = try SegmentFileHandle.open(path: path, create: false)
        let size = try handle.size()
        guard size <= 64 * 1024 * 1024 else { throw .io(operation: "read (file too large)", path: path, errno: EFBIG) }
        var buffer = try handle.read(at: 0, length: Int(size))
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Writes `bytes` to `path` atomically and durably: `<path>.tmp`, write, fsync, rename over `path`, fsync the
    /// parent directory (KAFKA-FORMATS §5.1). A crash leaves either the old or the new content, never a mix.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(StorageError) {
        let temporary = path + ".tmp"
        try removeFile(temporary)
        let handle = try SegmentFileHandle.open(path: temporary, create: true, exclusive: true)
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try handle.write(buffer, at: 0)
        try handle.sync()
        try rename(temporary, to: path)
        try syncDirectory(parentPath(path))
    }

    /// The directory part of `path` ("." when there is none).
    static func parentPath(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }
}
