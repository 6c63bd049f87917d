import RunnelStorage
import Testing

@testable import RunnelBroker

@Suite struct BrokerConfigurationTests {
    @Test func propertiesParserHandlesCommentsSeparatorsAndContinuations() throws {
        let text = """
            # a comment
              ! another comment

            listeners = PLAINTEXT://127.0.0.1:9093
            num.partitions: 3
            log.dirs\\
                =/tmp/one
            key\\ with\\ spaces=v
            message.max.bytes 2000000
            unicode=\\u0041B
            empty=
            """
        let file = try PropertiesFile(parsing: text)
        let values = file.dictionary
        #expect(values["listeners"] == "PLAINTEXT://127.0.0.1:9093")
        #expect(values["num.partitions"] == "3")
        #expect(values["log.dirs"] == "/tmp/one")
        #expect(values["key with spaces"] == "v")
        #expect(values["message.max.bytes"] == "2000000")
        #expect(values["unicode"] == "AB")
        #expect(values["empty"] == "")
        #expect(file.entries.count == 7)
    }

    @Test func valueContinuationJoinsLinesWithoutLeadingBlanks() throws {
        let file = try PropertiesFile(parsing: "log.cleanup.policy=compact,\\\n    delete\n")
        #expect(file.dictionary["log.cleanup.policy"] == "compact,delete")
    }

    @Test func defaultsWithoutAFile() throws {
        let config = try BrokerConfiguration()
        #expect(config.listeners == [Listener(name: "PLAINTEXT", host: "127.0.0.1", port: 9092)])
        #expect(config.logDirectory == "./data/runnel")
        #expect(config.numPartitions == 1)
        #expect(config.autoCreateTopicsEnable)
        #expect(config.socketRequestMaxBytes == 104_857_600)
        #expect(config.topicDefaults.isEmpty)
        #expect(config.unknownKeys.isEmpty)
        #expect(config.value(of: "metrics.listener") == "127.0.0.1:9644")
    }

    @Test func flagsOverrideEnvironmentWhichOverridesTheFile() throws {
        let file = "num.partitions=2\nlog.dirs=/from/file\nlog.segment.bytes=1000\n"
        let config = try BrokerConfiguration(
            propertiesText: file,
            environment: ["RUNNEL_LOG_DIRS": "/from/env", "RUNNEL_NUM_PARTITIONS": "4", "RUNNEL_BIN": "/ignored"],
            overrides: [("num.partitions", "5")])
        #expect(config.numPartitions == 5)
        #expect(config.logDirectory == "/from/env")
        #expect(config.sources["log.dirs"] == .environment)
        #expect(config.sources["num.partitions"] == .commandLine)
        #expect(config.topicDefaults["segment.bytes"] == "1000")
        #expect(config.unknownKeys.isEmpty, "RUNNEL_* variables that are not config keys are not reported")
    }

    @Test func retentionPrecedenceIsMillisecondsThenMinutesThenHours() throws {
        let hours = try BrokerConfiguration(propertiesText: "log.retention.hours=2")
        #expect(hours.topicDefaults["retention.ms"] == "7200000")
        let minutes = try BrokerConfiguration(propertiesText: "log.retention.hours=2\nlog.retention.minutes=3")
        #expect(minutes.topicDefaults["retention.ms"] == "180000")
        let ms = try BrokerConfiguration(
            propertiesText: "log.retention.hours=2\nlog.retention.minutes=3\nlog.retention.ms=42")
        #expect(ms.topicDefaults["retention.ms"] == "42")
        let forever = try BrokerConfiguration(propertiesText: "log.retention.hours=-1")
        #expect(forever.topicDefaults["retention.ms"] == "-1")
        let roll = try BrokerConfiguration(propertiesText: "log.roll.hours=1")
        #expect(roll.topicDefaults["segment.ms"] == "3600000")
    }

    @Test func brokerKeysMapToTopicKeys() throws {
        let config = try BrokerConfiguration(
            propertiesText: """
                message.max.bytes=5000
                log.cleanup.policy=compact, delete
                log.index.interval.bytes=100
                log.flush.interval.messages=1
                log.cleaner.min.cleanable.ratio=0.25
                compression.type=zstd
                """)
        #expect(config.topicDefaults["max.message.bytes"] == "5000")
        #expect(config.topicDefaults["cleanup.policy"] == "compact,delete")
        #expect(config.topicDefaults["index.interval.bytes"] == "100")
        #expect(config.topicDefaults["flush.messages"] == "1")
        #expect(config.topicDefaults["min.cleanable.dirty.ratio"] == "0.25")
        #expect(config.topicDefaults["compression.type"] == "zstd")
    }

    @Test func unknownKeysAreReportedAndStrictModeRejectsThem() throws {
        let text = "zookeeper.connect=localhost:2181\nnum.partitions=2\nbogus.key=1\n"
        let lenient = try BrokerConfiguration(propertiesText: text)
        #expect(lenient.unknownKeys == ["bogus.key", "zookeeper.connect"])
        #expect(lenient.numPartitions == 2)
        #expect(throws: BrokerConfigurationError.unknownKeys(["bogus.key", "zookeeper.connect"])) {
            try BrokerConfiguration(propertiesText: text, strict: true)
        }
    }

    @Test func invalidValuesAreRejectedWithTheKey() {
        #expect(throws: BrokerConfigurationError.self) { try BrokerConfiguration(propertiesText: "num.partitions=many") }
        #expect(throws: BrokerConfigurationError.self) { try BrokerConfiguration(propertiesText: "num.partitions=0") }
        #expect(throws: BrokerConfigurationError.self) {
            try BrokerConfiguration(propertiesText: "auto.create.topics.enable=yes")
        }
        #expect(throws: BrokerConfigurationError.self) {
            try BrokerConfiguration(propertiesText: "default.replication.factor=3")
        }
        #expect(throws: BrokerConfigurationError.self) { try BrokerConfiguration(propertiesText: "listeners=SSL://:9093") }
        #expect(throws: BrokerConfigurationError.self) { try BrokerConfiguration(propertiesText: "log.dirs=/a,/b") }
    }

    @Test func controllerListenersAreSkippedAndWildcardHostsParse() throws {
        let config = try BrokerConfiguration(
            propertiesText: """
                process.roles=broker,controller
                listeners=PLAINTEXT://:9092,CONTROLLER://:9093
                controller.listener.names=CONTROLLER
                advertised.listeners=PLAINTEXT://kafka.example:19092
                """)
        #expect(config.listeners == [Listener(name: "PLAINTEXT", host: "", port: 9092)])
        #expect(config.advertisedListeners == [Listener(name: "PLAINTEXT", host: "kafka.example", port: 19092)])
        #expect(config.unknownKeys.isEmpty)
    }

    @Test func listenerParsingRejectsMalformedEntries() throws {
        #expect(try Listener(parsing: "PLAINTEXT://[::1]:0") == Listener(name: "PLAINTEXT", host: "::1", port: 0))
        #expect(throws: BrokerConfigurationError.self) { try Listener(parsing: "127.0.0.1:9092") }
        #expect(throws: BrokerConfigurationError.self) { try Listener(parsing: "PLAINTEXT://host:99999") }
        #expect(throws: BrokerConfigurationError.self) { try Listener(parsing: "PLAINTEXT://host") }
    }

    @Test func theDefaultLogConfigCarriesBrokerKeys() throws {
        let config = try BrokerConfiguration(
            propertiesText: """
                log.segment.bytes=1048576
                log.retention.minutes=10
                log.cleanup.policy=compact
                log.message.timestamp.type=LogAppendTime
                message.max.bytes=2000
                """)
        let log = try config.defaultLogConfig()
        #expect(log.segmentBytes == 1_048_576)
        #expect(log.retentionMs == 600_000)
        #expect(log.cleanupPolicy == .compact)
        #expect(log.messageTimestampType == .logAppendTime)
        #expect(log.maxMessageBytes == 2000)
        #expect(try BrokerConfiguration().defaultLogConfig() == LogConfig())
        let bad = try BrokerConfiguration(propertiesText: "log.cleanup.policy=sometimes")
        #expect(throws: BrokerConfigurationError.self) { try bad.defaultLogConfig() }
    }
}
