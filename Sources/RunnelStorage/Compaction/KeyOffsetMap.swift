/// The cleaner's key → latest offset map: Kafka's `SkimpyOffsetMap` (KAFKA-FORMATS §6.2).
///
/// An open-addressing hash table in one flat array with a fixed memory budget. A key is identified by the MD5 of
/// its bytes; a slot is 24 bytes = 16-byte digest + 8-byte offset, stored as three `UInt64` words
/// (digest high, digest low, offset). A slot whose three words are all zero is empty. There are no deletes.
///
/// Probe sequence (Kafka's `positionOf`): attempt i reads the big-endian int32 at digest bytes [min(i, 12),
/// min(i, 12) + 4) and adds max(0, i − 12) (wrapping, as Java ints do); slot = abs(value) % slots with
/// abs(Int32.min) = 0. So the first 13 probes use different digest bits and later ones probe linearly.
///
/// Memory: exactly `slots × 24` bytes (`bytesPerEntry`), allocated once and reused across cleanings; a key costs
/// 24 bytes, or 24 / loadFactor ≈ 26.7 bytes of budget when the map is filled to its load factor.
///
/// Thread-safety: none (a value type owned by one `Cleaner`, i.e. one cleaner thread).
public struct KeyOffsetMap: Sendable {
    /// Bytes per entry: 16-byte MD5 digest + 8-byte offset.
    public static let bytesPerEntry = 24

    /// Number of slots (= memory budget / 24, at least 1).
    public let slots: Int
    /// Slots filled.
    public private(set) var entries: Int = 0
    /// The last offset scanned into the map (its batch's lastOffset), -1 after `clear()`.
    public private(set) var latestOffset: Int64 = -1
    /// `put` calls since creation (statistics).
    public private(set) var lookups: Int = 0
    /// Slots examined by `put` since creation (statistics: probes / lookups ≥ 1 measures collisions).
    public private(set) var probes: Int = 0

    /// Three words per slot: digest high, digest low, offset.
    private var storage: [UInt64]

    /// A map using `memoryBytes` bytes (capped at Int32.max as Kafka does), i.e. `memoryBytes / 24` slots.
    public init(memoryBytes: Int) {
        let budget = min(max(memoryBytes, Self.bytesPerEntry), Int(Int32.max))
        slots = budget / Self.bytesPerEntry
        storage = [UInt64](repeating: 0, count: slots * 3)
    }

    /// Bytes of memory the table uses (`slots × 24`).
    public var memoryBytes: Int { slots * Self.bytesPerEntry }

    /// Fraction of slots in use.
    public var utilization: Double { Double(entries) / Double(slots) }

    /// Entries that may be filled before a round must stop: `slots × loadFactor` (at least 1).
    public func capacity(loadFactor: Double) -> Int { max(1, Int(Double(slots) * loadFactor)) }

    /// Empties the map (all slots zeroed) and resets `latestOffset` to -1.
    public mutating func clear() {
        if entries > 0 {
            for index in storage.indices { storage[index] = 0 }
        }
        entries = 0
        latestOffset = -1
    }

    /// Records `offset` as the latest offset of the key with `digest`. Returns false (and changes nothing) when the
    /// key is new and every slot is taken.
    @discardableResult
    mutating func put(_ digest: MD5Digest, offset: Int64) -> Bool {
        lookups += 1
        var attempt = 0
        var slot = Self.slot(of: digest, attempt: attempt, slots: slots)
        while !isEmpty(slot) {
            probes += 1
            if storage[slot * 3] == digest.high && storage[slot * 3 + 1] == digest.low {
                storage[slot * 3 + 2] = UInt64(bitPattern: offset)
                return true
            }
            attempt += 1
            if attempt > maxAttempts { return false }  // every slot visited: full
            slot = Self.slot(of: digest, attempt: attempt, slots: slots)
        }
        probes += 1
        guard entries < slots else { return false }
        storage[slot * 3] = digest.high
        storage[slot * 3 + 1] = digest.low
        storage[slot * 3 + 2] = UInt64(bitPattern: offset)
        entries += 1
        return true
    }

    /// The latest offset recorded for the key with `digest`, or -1 when the key is not in the map.
    func get(_ digest: MD5Digest) -> Int64 {
        var attempt = 0
        while attempt <= maxAttempts {
            let slot = Self.slot(of: digest, attempt: attempt, slots: slots)
            if isEmpty(slot) { return -1 }
            if storage[slot * 3] == digest.high && storage[slot * 3 + 1] == digest.low {
                return Int64(bitPattern: storage[slot * 3 + 2])
            }
            attempt += 1
        }
        return -1
    }

    /// Records the last offset scanned (a batch's lastOffset).
    mutating func updateLatestOffset(_ offset: Int64) {
        latestOffset = offset
    }

    // MARK: - Key helpers (public entry points hash the key bytes)

    /// `put` for the raw key bytes.
    @discardableResult
    public mutating func put(key: [UInt8], offset: Int64) -> Bool { put(MD5.digest(key), offset: offset) }

    /// `get` for the raw key bytes (-1 when absent).
    public func get(key: [UInt8]) -> Int64 { get(MD5.digest(key)) }

    // MARK: - Probing

    /// Attempts after which every slot has been examined: the 13 digest-window probes, then a linear run of
    /// |v + k| that covers `slots` consecutive integers within 2 × slots steps (it crosses zero at most once).
    private var maxAttempts: Int { 13 + 2 * slots }

    /// The slot examined at `attempt` for `digest` (Kafka's `positionOf`, divided by the entry size).
    static func slot(of digest: MD5Digest, attempt: Int, slots: Int) -> Int {
        let probe = digest.int32(at: min(attempt, 12)) &+ Int32(truncatingIfNeeded: max(0, attempt - 12))
        let magnitude = probe == Int32.min ? 0 : abs(probe)
        return Int(magnitude) % slots
    }

    private func isEmpty(_ slot: Int) -> Bool {
        storage[slot * 3] == 0 && storage[slot * 3 + 1] == 0 && storage[slot * 3 + 2] == 0
    }
}
