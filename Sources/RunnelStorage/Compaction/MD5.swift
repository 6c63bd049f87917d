/// MD5 (RFC 1321): the key identity of the cleaner's offset map, as Kafka's `SkimpyOffsetMap` uses it.
///
/// Not used for security: only as a well-distributed 128-bit fingerprint of record keys. Verified against the
/// RFC 1321 test vectors (`KeyOffsetMapTests`).
///
/// Unsafe code: `digest(_:)` reads the caller's bytes through an `UnsafeRawBufferPointer`. Invariants: whole 64-byte
/// blocks are loaded only while `offset + 64 <= input.count`; the tail (< 64 bytes) is copied into a 128-byte
/// temporary allocation with the padding, and only `tailBlocks * 64 <= 128` bytes of it are read. No pointer escapes.
enum MD5 {
    /// The digest of `bytes`.
    static func digest(_ bytes: UnsafeRawBufferPointer) -> MD5Digest {
        var state = (a: UInt32(0x6745_2301), b: UInt32(0xEFCD_AB89), c: UInt32(0x98BA_DCFE), d: UInt32(0x1032_5476))
        let count = bytes.count
        var offset = 0
        if let base = bytes.baseAddress {
            while offset + 64 <= count {
                compress(&state, UnsafeRawPointer(base + offset))
                offset += 64
            }
        }
        let remaining = count - offset
        withUnsafeTemporaryAllocation(byteCount: 128, alignment: 8) { tail in
            tail.initializeMemory(as: UInt8.self, repeating: 0)
            if remaining > 0, let base = bytes.baseAddress {
                tail.baseAddress?.copyMemory(from: base + offset, byteCount: remaining)
            }
            tail[remaining] = 0x80
            let tailBlocks = remaining < 56 ? 1 : 2
            let bitLength = UInt64(truncatingIfNeeded: count) &* 8
            tail.storeBytes(of: bitLength.littleEndian, toByteOffset: tailBlocks * 64 - 8, as: UInt64.self)
            if let tailBase = tail.baseAddress {
                for block in 0..<tailBlocks { compress(&state, UnsafeRawPointer(tailBase + block * 64)) }
            }
        }
        let high = UInt64(state.a.byteSwapped) << 32 | UInt64(state.b.byteSwapped)
        let low = UInt64(state.c.byteSwapped) << 32 | UInt64(state.d.byteSwapped)
        return MD5Digest(high: high, low: low)
    }

    /// The digest of a byte array.
    static func digest(_ bytes: [UInt8]) -> MD5Digest {
        bytes.withUnsafeBytes { digest($0) }
    }

    // MARK: - Block function

    @inline(__always) private static func rotl(_ x: UInt32, _ s: UInt32) -> UInt32 { (x << s) | (x >> (32 - s)) }
    @inline(__always) private static func stepF(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ xk: UInt32, _ s: UInt32) -> UInt32 {
        b &+ rotl(a &+ ((b & c) | (~b & d)) &+ xk, s)
    }
    @inline(__always) private static func stepG(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ xk: UInt32, _ s: UInt32) -> UInt32 {
        b &+ rotl(a &+ ((b & d) | (c & ~d)) &+ xk, s)
    }
    @inline(__always) private static func stepH(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ xk: UInt32, _ s: UInt32) -> UInt32 {
        b &+ rotl(a &+ (b ^ c ^ d) &+ xk, s)
    }
    @inline(__always) private static func stepI(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ xk: UInt32, _ s: UInt32) -> UInt32 {
        b &+ rotl(a &+ (c ^ (b | ~d)) &+ xk, s)
    }

    /// Processes one 64-byte block at `block` (the caller guarantees 64 readable bytes there).
    private static func compress(_ state: inout (a: UInt32, b: UInt32, c: UInt32, d: UInt32), _ block: UnsafeRawPointer) {
        @inline(__always) func word(_ index: Int) -> UInt32 {
            UInt32(littleEndian: block.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
        }
        let x0 = word(0), x1 = word(1), x2 = word(2), x3 = word(3), x4 = word(4), x5 = word(5), x6 = word(6)
        let x7 = word(7), x8 = word(8), x9 = word(9), x10 = word(10), x11 = word(11), x12 = word(12)
        let x13 = word(13), x14 = word(14), x15 = word(15)
        var a = state.a, b = state.b, c = state.c, d = state.d
        a = stepF(a, b, c, d, x0 &+ 0xD76AA478, 7)
        d = stepF(d, a, b, c, x1 &+ 0xE8C7B756, 12)
        c = stepF(c, d, a, b, x2 &+ 0x242070DB, 17)
        b = stepF(b, c, d, a, x3 &+ 0xC1BDCEEE, 22)
        a = stepF(a, b, c, d, x4 &+ 0xF57C0FAF, 7)
        d = stepF(d, a, b, c, x5 &+ 0x4787C62A, 12)
        c = stepF(c, d, a, b, x6 &+ 0xA8304613, 17)
        b = stepF(b, c, d, a, x7 &+ 0xFD469501, 22)
        a = stepF(a, b, c, d, x8 &+ 0x698098D8, 7)
        d = stepF(d, a, b, c, x9 &+ 0x8B44F7AF, 12)
        c = stepF(c, d, a, b, x10 &+ 0xFFFF5BB1, 17)
        b = stepF(b, c, d, a, x11 &+ 0x895CD7BE, 22)
        a = stepF(a, b, c, d, x12 &+ 0x6B901122, 7)
        d = stepF(d, a, b, c, x13 &+ 0xFD987193, 12)
        c = stepF(c, d, a, b, x14 &+ 0xA679438E, 17)
        b = stepF(b, c, d, a, x15 &+ 0x49B40821, 22)
        a = stepG(a, b, c, d, x1 &+ 0xF61E2562, 5)
        d = stepG(d, a, b, c, x6 &+ 0xC040B340, 9)
        c = stepG(c, d, a, b, x11 &+ 0x265E5A51, 14)
        b = stepG(b, c, d, a, x0 &+ 0xE9B6C7AA, 20)
        a = stepG(a, b, c, d, x5 &+ 0xD62F105D, 5)
        d = stepG(d, a, b, c, x10 &+ 0x02441453, 9)
        c = stepG(c, d, a, b, x15 &+ 0xD8A1E681, 14)
        b = stepG(b, c, d, a, x4 &+ 0xE7D3FBC8, 20)
        a = stepG(a, b, c, d, x9 &+ 0x21E1CDE6, 5)
        d = stepG(d, a, b, c, x14 &+ 0xC33707D6, 9)
        c = stepG(c, d, a, b, x3 &+ 0xF4D50D87, 14)
        b = stepG(b, c, d, a, x8 &+ 0x455A14ED, 20)
        a = stepG(a, b, c, d, x13 &+ 0xA9E3E905, 5)
        d = stepG(d, a, b, c, x2 &+ 0xFCEFA3F8, 9)
        c = stepG(c, d, a, b, x7 &+ 0x676F02D9, 14)
        b = stepG(b, c, d, a, x12 &+ 0x8D2A4C8A, 20)
        a = stepH(a, b, c, d, x5 &+ 0xFFFA3942, 4)
        d = stepH(d, a, b, c, x8 &+ 0x8771F681, 11)
        c = stepH(c, d, a, b, x11 &+ 0x6D9D6122, 16)
        b = stepH(b, c, d, a, x14 &+ 0xFDE5380C, 23)
        a = stepH(a, b, c, d, x1 &+ 0xA4BEEA44, 4)
        d = stepH(d, a, b, c, x4 &+ 0x4BDECFA9, 11)
        c = stepH(c, d, a, b, x7 &+ 0xF6BB4B60, 16)
        b = stepH(b, c, d, a, x10 &+ 0xBEBFBC70, 23)
        a = stepH(a, b, c, d, x13 &+ 0x289B7EC6, 4)
        d = stepH(d, a, b, c, x0 &+ 0xEAA127FA, 11)
        c = stepH(c, d, a, b, x3 &+ 0xD4EF3085, 16)
        b = stepH(b, c, d, a, x6 &+ 0x04881D05, 23)
        a = stepH(a, b, c, d, x9 &+ 0xD9D4D039, 4)
        d = stepH(d, a, b, c, x12 &+ 0xE6DB99E5, 11)
        c = stepH(c, d, a, b, x15 &+ 0x1FA27CF8, 16)
        b = stepH(b, c, d, a, x2 &+ 0xC4AC5665, 23)
        a = stepI(a, b, c, d, x0 &+ 0xF4292244, 6)
        d = stepI(d, a, b, c, x7 &+ 0x432AFF97, 10)
        c = stepI(c, d, a, b, x14 &+ 0xAB9423A7, 15)
        b = stepI(b, c, d, a, x5 &+ 0xFC93A039, 21)
        a = stepI(a, b, c, d, x12 &+ 0x655B59C3, 6)
        d = stepI(d, a, b, c, x3 &+ 0x8F0CCC92, 10)
        c = stepI(c, d, a, b, x10 &+ 0xFFEFF47D, 15)
        b = stepI(b, c, d, a, x1 &+ 0x85845DD1, 21)
        a = stepI(a, b, c, d, x8 &+ 0x6FA87E4F, 6)
        d = stepI(d, a, b, c, x15 &+ 0xFE2CE6E0, 10)
        c = stepI(c, d, a, b, x6 &+ 0xA3014314, 15)
        b = stepI(b, c, d, a, x13 &+ 0x4E0811A1, 21)
        a = stepI(a, b, c, d, x4 &+ 0xF7537E82, 6)
        d = stepI(d, a, b, c, x11 &+ 0xBD3AF235, 10)
        c = stepI(c, d, a, b, x2 &+ 0x2AD7D2BB, 15)
        b = stepI(b, c, d, a, x9 &+ 0xEB86D391, 21)
        state.a &+= a
        state.b &+= b
        state.c &+= c
        state.d &+= d
    }
}

/// A 128-bit MD5 digest as two big-endian halves: `high` holds bytes 0–7 (byte 0 most significant), `low` bytes
/// 8–15, so `int32(at:)` reads the same values as Kafka's `ByteUtils.readIntBE(hash, i)`.
struct MD5Digest: Hashable, Sendable {
    var high: UInt64
    var low: UInt64

    /// The big-endian int32 at digest bytes [i, i + 4), for 0 ≤ i ≤ 12.
    func int32(at index: Int) -> Int32 {
        precondition(index >= 0 && index <= 12, "digest byte index \(index) out of 0...12")
        let bits = UInt64(index * 8)
        let window: UInt64
        if bits == 0 {
            window = high
        } else if bits < 64 {
            window = (high << bits) | (low >> (64 - bits))
        } else {
            window = low << (bits - 64)
        }
        return Int32(truncatingIfNeeded: window >> 32)
    }

    /// The 16 digest bytes in order.
    var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    /// Lower-case hex, as `md5sum` prints it.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
