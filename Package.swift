// swift-tools-version: 6.1
// Runnel: a single-node, Kafka-compatible, log-structured message broker.
// Module graph (arrows point one way): records <- storage <- broker -> protocol; client -> protocol.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Debug builds (and so CI's tests) turn on the internal invariant checks of the storage engine.
let storageChecks: [SwiftSetting] = strict + [.define("STORAGE_INTERNAL_CHECKS", .when(configuration: .debug))]

let package = Package(
    name: "Runnel",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RunnelRecords", targets: ["RunnelRecords"]),
        .library(name: "RunnelStorage", targets: ["RunnelStorage"]),
        .library(name: "RunnelProtocol", targets: ["RunnelProtocol"]),
        .library(name: "RunnelBroker", targets: ["RunnelBroker"]),
        .library(name: "RunnelClient", targets: ["RunnelClient"]),
        .executable(name: "runnel", targets: ["runnel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // MARK: C shims
        .systemLibrary(name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSnappy", path: "Sources/CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .target(name: "CCRC32C", path: "Sources/CCRC32C", cSettings: [.unsafeFlags(["-O3"])]),

        // MARK: Libraries
        .target(
            name: "RunnelRecords",
            dependencies: [
                "CLZ4", "CZlib", "CZstd", "CSnappy", "CCRC32C",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RunnelStorage",
            dependencies: [
                "RunnelRecords",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: storageChecks
        ),
        .target(
            name: "RunnelProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .target(
            name: "RunnelBroker",
            dependencies: [
                "RunnelStorage", "RunnelProtocol", "RunnelRecords",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RunnelClient",
            dependencies: [
                "RunnelProtocol", "RunnelRecords",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "runnel",
            dependencies: [
                "RunnelBroker", "RunnelStorage", "RunnelRecords", "RunnelClient", "RunnelProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // MARK: Tools
        // Generates Sources/RunnelProtocol/Generated from ../shared/kafka-protocol/messages (Foundation only).
        .executableTarget(name: "MessageGen", path: "tools/MessageGen", swiftSettings: strict),
        // Child process for the SIGKILL crash test: appends batches and reports each acknowledged offset.
        .executableTarget(
            name: "runnel-crash-writer",
            dependencies: ["RunnelStorage", "RunnelRecords"],
            path: "tools/CrashWriter",
            swiftSettings: strict
        ),
        // Writes/reads record batches for the kafka-python cross-check (tools/compat/records).
        .executableTarget(
            name: "runnel-records-interop", dependencies: ["RunnelRecords"], path: "tools/RecordsInterop",
            swiftSettings: strict),

        // MARK: Benchmarks (not tests: they print figures; tools/bench/run.sh runs them in release)
        .executableTarget(
            name: "runnel-bench-storage",
            dependencies: [
                "RunnelStorage", "RunnelRecords",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/StorageBenchmarks",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "runnel-bench-compaction",
            dependencies: [
                "RunnelStorage", "RunnelRecords",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/CompactionBenchmark",
            swiftSettings: strict
        ),

        // MARK: Tests
        .target(
            name: "TestSupport",
            dependencies: ["RunnelRecords", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "RunnelRecordsTests",
            dependencies: [
                "RunnelRecords", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RunnelStorageTests",
            dependencies: [
                "RunnelStorage", "RunnelRecords", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RunnelProtocolTests",
            dependencies: [
                "RunnelProtocol",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RunnelClientTests",
            dependencies: ["RunnelClient", "RunnelBroker", "RunnelProtocol", "RunnelRecords", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RunnelBrokerTests",
            dependencies: [
                "RunnelBroker", "RunnelProtocol", "RunnelStorage", "RunnelRecords", "TestSupport",
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
