#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed file-system call, with the path and errno.
public struct FileIOError: Error, Sendable, Equatable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Int32

    public var description: String {
        "\(operation) \(path) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Small blocking file helpers for the broker's own metadata files (topics, producer ids, snapshots).
///
/// All calls block: use them at startup/shutdown or from a thread pool, never on an event loop in a hot path.
/// `writeAtomically` is Kafka's checkpoint discipline: write `<path>.tmp`, fsync, rename over `path`,
/// fsync the parent directory, so a crash leaves either the old or the new file, never a torn one.
enum FileIO {
    /// Reads a whole file as bytes.
    static func readBytes(path: String) throws(FileIOError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileIOError(operation: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }

    /// Reads a whole file as UTF-8 text (invalid sequences are repaired).
    static func readText(path: String) throws(FileIOError) -> String {
        String(decoding: try readBytes(path: path), as: UTF8.self)
    }

    static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates `path` and its missing parents (mode 0755).
    static func createDirectories(_ path: String) throws(FileIOError) {
        if isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if !isDirectory(prefix) {
                if mkdir(prefix, 0o755) != 0, errno != EEXIST {
                    throw FileIOError(operation: "mkdir", path: prefix, errno: errno)
                }
            }
            prefix += "/"
        }
    }

    /// Replaces `path` with `bytes` crash-safely (tmp + fsync + rename + fsync of the directory).
    static func writeAtomically(path: String, bytes: [UInt8]) throws(FileIOError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError(operation: "open", path: temporary, errno: errno) }
        var written = 0
        while written < bytes.count {
            // baseAddress is non-nil: the loop runs only while bytes is non-empty (written < bytes.count).
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                throw FileIOError(operation: "write", path: temporary, errno: code)
            }
            written += count
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd)
            throw FileIOError(operation: "fsync", path: temporary, errno: code)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw FileIOError(operation: "rename", path: path, errno: errno) }
        try fsyncDirectory(parentDirectory(of: path))
    }

    /// Writes `bytes` to `path` directly (create/truncate) and fsyncs the file (for CRC-protected snapshots).
    static func writeAndSync(path: String, bytes: [UInt8]) throws(FileIOError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            // baseAddress is non-nil: the loop runs only while bytes is non-empty (written < bytes.count).
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileIOError(operation: "write", path: path, errno: errno)
            }
            written += count
        }
        guard fsync(fd) == 0 else { throw FileIOError(operation: "fsync", path: path, errno: errno) }
    }

    static func fsyncDirectory(_ path: String) throws(FileIOError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileIOError(operation: "fsync", path: path, errno: errno) }
    }

    static func removeFile(_ path: String) throws(FileIOError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw FileIOError(operation: "unlink", path: path, errno: errno)
        }
    }

    /// Names in a directory (without "." and "..").
    static func listDirectory(_ path: String) throws(FileIOError) -> [String] {
        guard let directory = opendir(path) else { throw FileIOError(operation: "opendir", path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }
}
