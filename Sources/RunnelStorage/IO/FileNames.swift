/// Names of the files of a partition directory (KAFKA-FORMATS §5.1).
///
/// A segment's files share a prefix: its base offset as a 20-digit zero-padded decimal, so `ls` sorts numerically.
enum FileNames {
    static let logSuffix = ".log"
    static let indexSuffix = ".index"
    static let timeIndexSuffix = ".timeindex"
    static let txnIndexSuffix = ".txnindex"
    static let snapshotSuffix = ".snapshot"
    static let deletedSuffix = ".deleted"
    static let cleanedSuffix = ".cleaned"
    static let swapSuffix = ".swap"

    /// The 20-digit prefix for `offset` (≥ 0).
    static func prefix(_ offset: Int64) -> String {
        let digits = String(offset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    static func log(_ directory: String, _ baseOffset: Int64) -> String {
        directory + "/" + prefix(baseOffset) + logSuffix
    }
    static func index(_ directory: String, _ baseOffset: Int64) -> String {
        directory + "/" + prefix(baseOffset) + indexSuffix
    }
    static func timeIndex(_ directory: String, _ baseOffset: Int64) -> String {
        directory + "/" + prefix(baseOffset) + timeIndexSuffix
    }

    /// The offset parsed from the text before the first `.` of `name`, if it is all digits.
    static func offset(ofFileName name: String) -> Int64? {
        let head = name.prefix { $0 != "." }
        guard !head.isEmpty, head.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(head)
    }
}
