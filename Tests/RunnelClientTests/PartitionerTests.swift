import NIOCore
import RunnelClient
import Testing

@Suite struct PartitionerTests {
    /// Kafka's own vectors (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2).
    @Test(arguments: [
        ("21", Int32(-973_932_308)),
        ("foobar", -790_332_482),
        ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        ("abc", 479_470_107),
    ])
    func murmur2MatchesKafkaVectors(input: String, expected: Int32) {
        #expect(Murmur2.hash(Array(input.utf8)) == expected)
    }

    @Test func murmur2DiffersForEveryTailLength() {
        // Every tail length (0...3) exercises a different branch; the hash depends on the length too.
        let hashes = (0...7).map { Murmur2.hash(Array(repeating: UInt8(ascii: "x"), count: $0)) }
        #expect(Set(hashes).count == hashes.count)
    }

    @Test func toPositiveClearsTheSignBitLikeJava() {
        #expect(Murmur2.toPositive(-1) == Int32.max)
        #expect(Murmur2.toPositive(Int32.min) == 0)
        #expect(Murmur2.toPositive(42) == 42)
    }

    @Test func keyedRecordsGoToMurmur2ModuloPartitions() {
        let partitioner = Partitioner(start: 0)
        for key in ["21", "foobar", "abc", "user-1", ""] {
            let expected = Murmur2.toPositive(Murmur2.hash(Array(key.utf8))) % 7
            #expect(partitioner.partition(key: ByteBuffer(string: key), partitionCount: 7) == expected)
        }
        // "21" hashes to -973932308: toPositive = 1173551340, % 3 = 0.
        #expect(Partitioner.keyedPartition(key: ByteBuffer(string: "21"), partitionCount: 3) == 1_173_551_340 % 3)
    }

    @Test func keyedPartitionIgnoresTheBufferReaderIndex() {
        var buffer = ByteBuffer(string: "xxfoobar")
        buffer.moveReaderIndex(forwardBy: 2)
        #expect(
            Partitioner.keyedPartition(key: buffer, partitionCount: 11)
                == Partitioner.keyedPartition(key: ByteBuffer(string: "foobar"), partitionCount: 11))
    }

    @Test func nullKeysStickUntilTheBatchClosesThenMoveOn() {
        var partitioner = Partitioner(start: 1)
        #expect(partitioner.partition(key: nil, partitionCount: 3) == 1)
        #expect(partitioner.partition(key: nil, partitionCount: 3) == 1)
        partitioner.batchClosed(partition: 0, partitionCount: 3)  // not the sticky one: no move
        #expect(partitioner.partition(key: nil, partitionCount: 3) == 1)
        partitioner.batchClosed(partition: 1, partitionCount: 3)
        #expect(partitioner.partition(key: nil, partitionCount: 3) == 2)
        partitioner.batchClosed(partition: 2, partitionCount: 3)
        #expect(partitioner.partition(key: nil, partitionCount: 3) == 0)
    }
}
