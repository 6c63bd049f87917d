import PropertyBased
import Testing
@testable import RunnelStorage

@Suite struct MD5Tests {
    /// RFC 1321 appendix A.5 test suite.
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func digestMatchesRFC1321Vectors(input: String, expected: String) {
        #expect(MD5.digest(Array(input.utf8)).hex == expected)
    }

    @Test func digestsAroundTheBlockAndPaddingBoundariesDiffer() {
        // 55, 56, 63, 64, 65 bytes exercise the one- and two-block tails.
        let digests = [55, 56, 63, 64, 65, 119, 120, 128].map { MD5.digest([UInt8](repeating: 0x61, count: $0)).hex }
        #expect(Set(digests).count == digests.count)
        // Known value: 64 × "a".
        #expect(MD5.digest([UInt8](repeating: 0x61, count: 64)).hex == "014842d480b571495a4a0363793f7367")
    }

    @Test func int32WindowsReadTheDigestBigEndian() {
        let digest = MD5.digest(Array("abc".utf8))  // 90 01 50 98 3c d2 4f b0 d6 96 3f 7d 28 e1 7f 72
        #expect(digest.int32(at: 0) == Int32(bitPattern: 0x9001_5098))
        #expect(digest.int32(at: 5) == Int32(bitPattern: 0xD24F_B0D6))
        #expect(digest.int32(at: 12) == Int32(bitPattern: 0x28E1_7F72))
    }
}

@Suite struct KeyOffsetMapTests {
    @Test func probeSequenceFollowsKafkasPositionOf() {
        let digest = MD5.digest(Array("abc".utf8))
        let slots = 1_000
        func kafka(_ attempt: Int) -> Int {
            let probe = digest.int32(at: min(attempt, 12)) &+ Int32(max(0, attempt - 12))
            return Int(probe == Int32.min ? 0 : abs(probe)) % slots
        }
        for attempt in 0..<40 {
            #expect(KeyOffsetMap.slot(of: digest, attempt: attempt, slots: slots) == kafka(attempt))
        }
        // 0x90015098 is negative as an int32: abs() then modulo.
        #expect(KeyOffsetMap.slot(of: digest, attempt: 0, slots: slots) == Int(abs(Int32(bitPattern: 0x9001_5098))) % slots)
    }

    @Test func putOverwritesAndGetReturnsLatestOrMinusOne() {
        var map = KeyOffsetMap(memoryBytes: 24 * 100)
        #expect(map.slots == 100)
        #expect(map.memoryBytes == 2_400)
        map.put(key: Array("k".utf8), offset: 5)
        map.put(key: Array("k".utf8), offset: 9)
        map.put(key: Array("other".utf8), offset: 7)
        let k = map.get(key: Array("k".utf8))
        let other = map.get(key: Array("other".utf8))
        let missing = map.get(key: Array("missing".utf8))
        #expect(k == 9 && other == 7 && missing == -1)
        #expect(map.entries == 2)
        map.clear()
        #expect(map.entries == 0)
        let cleared = map.get(key: Array("k".utf8))
        #expect(cleared == -1)
        #expect(map.latestOffset == -1)
    }

    @Test func fillsEverySlotThenRefusesNewKeysButUpdatesOldOnes() {
        var map = KeyOffsetMap(memoryBytes: 24 * 37)
        for index in 0..<37 {
            let stored = map.put(key: Array("key-\(index)".utf8), offset: Int64(index))
            #expect(stored)
        }
        #expect(map.entries == 37)
        #expect(map.utilization == 1)
        let refused = map.put(key: Array("one-too-many".utf8), offset: 99)
        #expect(!refused)
        let updated = map.put(key: Array("key-3".utf8), offset: 1_000)
        #expect(updated)
        for index in 0..<37 where index != 3 {
            let found = map.get(key: Array("key-\(index)".utf8))
            #expect(found == Int64(index))
        }
        let three = map.get(key: Array("key-3".utf8))
        #expect(three == 1_000)
        #expect(map.capacity(loadFactor: 0.9) == 33)
    }

    @Test func memoryIsTwentyFourBytesPerSlot() {
        let map = KeyOffsetMap(memoryBytes: 128 * 1024 * 1024)
        #expect(map.slots == 5_592_405)  // KAFKA-FORMATS §6.2
        #expect(KeyOffsetMap.bytesPerEntry == 24)
    }

    @Test func behavesLikeADictionaryOfLatestOffsets() async {
        await propertyCheck(count: 50, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix(seed: seed)
            let slots = Int.random(in: 8...300, using: &rng)
            var map = KeyOffsetMap(memoryBytes: slots * 24)
            var model: [[UInt8]: Int64] = [:]
            for offset in 0..<Int64(slots * 3) {
                let key = (0..<Int.random(in: 0...6, using: &rng)).map { _ in UInt8.random(in: 0...3, using: &rng) }
                if model[key] == nil && model.count >= slots * 9 / 10 { continue }
                let stored = map.put(key: key, offset: offset)
                #expect(stored)
                model[key] = offset
            }
            #expect(map.entries == model.count)
            for (key, offset) in model {
                let found = map.get(key: key)
                #expect(found == offset)
            }
        }
    }
}
