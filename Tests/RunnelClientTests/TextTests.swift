import NIOCore
import RunnelClient
import RunnelRecords
import Testing

@Suite struct LineSplitterTests {
    private func split(_ chunks: [String], delimiter: [UInt8] = [0x0A]) -> [String] {
        var splitter = LineSplitter(delimiter: delimiter)
        var lines: [String] = []
        for chunk in chunks {
            splitter.feed(ByteBuffer(string: chunk)) { lines.append(String(buffer: $0)) }
        }
        if let last = splitter.finish() { lines.append(String(buffer: last)) }
        return lines
    }

    @Test func splitsLinesWithinOneChunk() {
        #expect(split(["a\nbb\nccc\n"]) == ["a", "bb", "ccc"])
    }

    @Test func joinsALineThatStraddlesChunks() {
        #expect(split(["hel", "lo\nwor", "ld\n"]) == ["hello", "world"])
    }

    @Test func keepsEmptyLinesAndALastLineWithoutDelimiter() {
        #expect(split(["a\n\nb"]) == ["a", "", "b"])
        #expect(split(["", "\n"]) == [""])
        #expect(split([]) == [])
    }

    @Test func findsAMultiByteDelimiterSplitAcrossChunks() {
        #expect(split(["one||tw", "o|", "|three"], delimiter: Array("||".utf8)) == ["one", "two", "three"])
        #expect(split(["a|b||c"], delimiter: Array("||".utf8)) == ["a|b", "c"])
    }

    @Test func anyChunkingGivesTheSameLines() {
        let text = "first line\nsecond\n\nthe fourth one is longer\nlast"
        let expected = split([text])
        for size in 1...9 {
            var chunks: [String] = []
            var rest = Substring(text)
            while !rest.isEmpty {
                chunks.append(String(rest.prefix(size)))
                rest = rest.dropFirst(size)
            }
            #expect(split(chunks) == expected, "chunk size \(size)")
        }
    }

    @Test func linesAreSlicesOfTheChunk() {
        var splitter = LineSplitter()
        let chunk = ByteBuffer(string: "abc\ndef\n")
        var lines: [ByteBuffer] = []
        splitter.feed(chunk) { lines.append($0) }
        #expect(lines.count == 2)
        // Same storage: the slice's bytes are read straight from the chunk.
        #expect(lines[1].readableBytesView.elementsEqual("def".utf8))
        #expect(splitter.pendingBytes == 0)
    }

    @Test func splitFirstSeparatesKeyAndValue() throws {
        let (key, value) = try #require(LineSplitter.splitFirst(ByteBuffer(string: "k1:v:1"), at: [UInt8(ascii: ":")]))
        #expect(String(buffer: key) == "k1")
        #expect(String(buffer: value) == "v:1")
        #expect(LineSplitter.splitFirst(ByteBuffer(string: "novalue"), at: [UInt8(ascii: ":")]) == nil)
        let (emptyKey, _) = try #require(LineSplitter.splitFirst(ByteBuffer(string: ":v"), at: [UInt8(ascii: ":")]))
        #expect(emptyKey.readableBytes == 0)
    }

    @Test func parsesDelimiterEscapes() {
        #expect(LineSplitter.parseDelimiter("\\n") == [0x0A])
        #expect(LineSplitter.parseDelimiter("\\t|\\x41") == [0x09, UInt8(ascii: "|"), 0x41])
        #expect(LineSplitter.parseDelimiter("\\0") == [0])
        #expect(LineSplitter.parseDelimiter("") == nil)
        #expect(LineSplitter.parseDelimiter("\\q") == nil)
        #expect(LineSplitter.parseDelimiter("\\x4") == nil)
    }
}

@Suite struct RecordFormatterTests {
    private let record = ConsumerRecord(
        topic: "events", partition: 2, offset: 1234, timestamp: 1_700_000_000_123, key: ByteBuffer(string: "k"),
        value: ByteBuffer(string: "hello"),
        headers: [RecordHeader(key: "a", utf8Value: "1"), RecordHeader(key: "b", value: nil)])

    @Test func replacesEveryPlaceholder() throws {
        let formatter = try RecordFormatter(format: "%t|%p|%o|%T|%k|%K|%s|%S|%h|%%\\n")
        #expect(formatter.string(for: record) == "events|2|1234|1700000000123|k|1|hello|5|a=1,b=|%\n")
    }

    @Test func defaultFormatIsValueAndNewline() throws {
        #expect(try RecordFormatter(format: RecordFormatter.defaultFormat).string(for: record) == "hello\n")
    }

    @Test func nullKeyAndValuePrintNothingAndLengthMinusOne() throws {
        let tombstone = ConsumerRecord(topic: "t", partition: 0, offset: 0, timestamp: -1, key: nil, value: nil)
        #expect(try RecordFormatter(format: "[%k][%s][%K][%S][%T]").string(for: tombstone) == "[][][-1][-1][-1]")
    }

    @Test func escapesBecomeBytes() throws {
        #expect(try RecordFormatter(format: "%o\\t%s\\r\\x21").string(for: record) == "1234\thello\r!")
    }

    @Test func rejectsUnknownPlaceholdersAndLonePercent() {
        #expect(throws: ClientError.self) { try RecordFormatter(format: "%z") }
        #expect(throws: ClientError.self) { try RecordFormatter(format: "value %") }
        #expect(throws: ClientError.self) { try RecordFormatter(format: "bad \\q escape") }
    }
}

@Suite struct JSONRecordTests {
    @Test func writerEscapesAndKeepsNulls() {
        let record = ConsumerRecord(
            topic: "t", partition: 1, offset: 7, timestamp: 99, key: nil, value: ByteBuffer(string: "say \"hi\"\n\u{1}"),
            headers: [RecordHeader(key: "h", utf8Value: "x"), RecordHeader(key: "n", value: nil)])
        var output = ByteBuffer()
        JSONRecordWriter.write(record, to: &output)
        #expect(
            String(buffer: output)
                == #"{"topic":"t","partition":1,"offset":7,"timestamp":99,"key":null,"value":"say \"hi\"\n\u0001","headers":{"h":"x","n":null}}"#
        )
    }

    @Test func parserReadsWhatTheWriterWrites() throws {
        let record = ConsumerRecord(
            topic: "t", partition: 0, offset: 1, timestamp: 1_700_000_000_000, key: ByteBuffer(string: "ké"),
            value: ByteBuffer(string: "v\t\"q\""), headers: [RecordHeader(key: "a", utf8Value: "b")])
        var output = ByteBuffer()
        JSONRecordWriter.write(record, to: &output)
        let parsed = try JSONRecordParser.parse(output)
        #expect(parsed.key.map { String(buffer: $0) } == "ké")
        #expect(parsed.value.map { String(buffer: $0) } == "v\t\"q\"")
        #expect(parsed.headers == [RecordHeader(key: "a", utf8Value: "b")])
        #expect(parsed.timestamp == 1_700_000_000_000)
    }

    @Test func parserAcceptsPartialObjectsAndNonStringValues() throws {
        let parsed = try JSONRecordParser.parse(ByteBuffer(string: #"{"value":{"n":1}}"#))
        #expect(parsed.key == nil)
        #expect(parsed.value.map { String(buffer: $0) } == #"{"n":1}"#)
        #expect(parsed.timestamp == nil)
    }

    @Test func parserRejectsBadInput() {
        #expect(throws: ClientError.self) { try JSONRecordParser.parse(ByteBuffer(string: "not json")) }
        #expect(throws: ClientError.self) { try JSONRecordParser.parse(ByteBuffer(string: "[1,2]")) }
        #expect(throws: ClientError.self) { try JSONRecordParser.parse(ByteBuffer(string: #"{"timestamp":"x"}"#)) }
        #expect(throws: ClientError.self) { try JSONRecordParser.parse(ByteBuffer(string: #"{"headers":{"a":1}}"#)) }
    }
}

@Suite struct OptionParsingTests {
    @Test func parsesStartOffsets() {
        #expect(StartOffset(parsing: "earliest") == .earliest)
        #expect(StartOffset(parsing: "beginning") == .earliest)
        #expect(StartOffset(parsing: "latest") == .latest)
        #expect(StartOffset(parsing: "end") == .latest)
        #expect(StartOffset(parsing: "42") == .offset(42))
        #expect(StartOffset(parsing: "-10") == .fromEnd(10))
        #expect(StartOffset(parsing: "@1700000000000") == .timestamp(1_700_000_000_000))
        #expect(StartOffset(parsing: "s@5") == .timestamp(5))
        #expect(StartOffset(parsing: "soon") == nil)
        #expect(StartOffset(parsing: "@") == nil)
    }

    @Test func parsesBrokerAddresses() throws {
        #expect(try BrokerAddress(parsing: "127.0.0.1:9092") == BrokerAddress(host: "127.0.0.1", port: 9092))
        #expect(try BrokerAddress(parsing: "localhost:1,other:2") == BrokerAddress(host: "localhost", port: 1))
        #expect(try BrokerAddress(parsing: "[::1]:9093") == BrokerAddress(host: "::1", port: 9093))
        #expect(throws: ClientError.self) { try BrokerAddress(parsing: "localhost") }
        #expect(throws: ClientError.self) { try BrokerAddress(parsing: "host:99999") }
    }

    @Test func negotiatesTheHighestCommonVersion() {
        let table = ApiVersionTable(broker: [0: 0...11, 1: 4...10, 3: 0...4, 19: 0...1])
        #expect(table.version(for: .produce) == 9)  // client max 9
        #expect(table.version(for: .fetch) == 10)  // broker max 10
        #expect(table.version(for: .metadata) == 4)
        #expect(table.version(for: .createTopics) == nil)  // client needs >= 2
        #expect(table.version(for: .listOffsets) == nil)  // not advertised
    }

    @Test func indexRangesMergeConsecutiveIndices() {
        var ranges = IndexRanges()
        for index in [0, 1, 2, 5, 6, 9] { ranges.append(index) }
        #expect(ranges.ranges == [0...2, 5...6, 9...9])
        #expect(ranges.count == 6)
        #expect(ranges.contains(6) && !ranges.contains(4))
    }
}
