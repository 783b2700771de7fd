// swift-tools-version:6.0
import PackageDescription

// Module graph (no cycles; each module imports only what it needs):
//
//   Runtime ─┬─ Tokenizers
//            └─ EncoderModel (CBLAS) ── GuardData (Yams) ── Guards ─┬─ Training
//                                                                   └─ Fusion (Yams) ── Cluster (CZMQ, protobuf; Training for its job settings)
//   Coordinator (library: GRDB, the only target that uses it; Hummingbird + swift-prometheus for its metrics endpoint) and Worker
//   (library) build on Cluster; the three executables are thin mains.
//   Collectives (Runtime, CGloo: a C++ shim over Debian's libgloo): ring all-reduce of gradients for data-parallel training; no ZeroMQ.
//   DataParallel (Training, Collectives): GlooGradientReducer, the Training loops' reducer over a Gloo ring.
//   CommandLineSupport (Runtime, EncoderModel, ArgumentParser, Logging): their one entry point and shared options.
//   Synthesis (GuardData, AsyncHTTPClient): LLM-written training data; used by the CLI and the worker (synthesize jobs), tested
//   against LLMStandIn (Hummingbird), a stand-in chat-completions server that is test support only.
//   Serving (Guards, Hummingbird, swift-metrics/Prometheus, ServiceLifecycle): `uniguard serve`'s HTTP API over loaded guards.
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")

let package = Package(
    name: "UniGuard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "uniguard", targets: ["UniGuardCLI"]),
        .executable(name: "coordinator", targets: ["CoordinatorMain"]),
        .executable(name: "worker", targets: ["WorkerMain"]),
        .executable(name: "llm-stand-in", targets: ["LLMStandInMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages; headers and libraries are on default paths.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZMQ", path: "Sources/CZMQ"),
        // C++ shim over Gloo (libgloo-dev): an extern "C" API; no exception crosses into Swift.
        .target(name: "CGloo", path: "Sources/CGloo",
                linkerSettings: [.linkedLibrary("gloo"), .linkedLibrary("pthread")]),

        // Sources/Shared: what the daemons and the CLI share, one target per role.
        .target(name: "Runtime", dependencies: ["CBLAS", .product(name: "Crypto", package: "swift-crypto")], path: "Sources/Shared/Runtime"),
        .target(name: "Tokenizers", dependencies: ["Runtime"], path: "Sources/Shared/Tokenizers"),
        .target(name: "EncoderModel", dependencies: ["Runtime", "Tokenizers", "CBLAS"], path: "Sources/Shared/EncoderModel"),
        .target(name: "GuardData", dependencies: ["Runtime", "Tokenizers", "EncoderModel", yams], path: "Sources/Shared/GuardData"),
        .target(name: "Guards", dependencies: ["Runtime", "Tokenizers", "EncoderModel", "GuardData"], path: "Sources/Shared/Guards"),
        .target(name: "Training", dependencies: ["Runtime", "Tokenizers", "EncoderModel", "GuardData", "Guards"],
                path: "Sources/Shared/Training"),
        .target(name: "Fusion", dependencies: ["Runtime", "EncoderModel", "GuardData", "Guards", yams], path: "Sources/Shared/Fusion"),
        .target(name: "Cluster",
                dependencies: ["Runtime", "EncoderModel", "GuardData", "Guards", "Training", "Fusion", "CZMQ", logging, yams,
                               .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Sources/Shared/Cluster"),
        .target(name: "Collectives", dependencies: ["CGloo", "Runtime"], path: "Sources/Shared/Collectives"),
        // Data-parallel training: the Training loops' GradientReducer over a Collectives ring.
        .target(name: "DataParallel", dependencies: ["Training", "Collectives", "Runtime"], path: "Sources/Shared/DataParallel"),
        // LLM data synthesis over any OpenAI-compatible chat-completions server (async-http-client).
        .target(name: "Synthesis", dependencies: ["Runtime", "EncoderModel", "GuardData", logging,
                                                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")],
                path: "Sources/Shared/Synthesis"),
        // What the three executables share on the command line: entry point, --threads, --log-level, option checks.
        .target(name: "CommandLineSupport", dependencies: ["Runtime", "EncoderModel", argumentParser, logging],
                path: "Sources/Shared/CommandLineSupport"),

        // The daemons: libraries (tested by their own targets) behind thin executables.
        .target(name: "Coordinator", dependencies: ["Runtime", "EncoderModel", "GuardData", "Guards", "Fusion", "Cluster", "CommandLineSupport", argumentParser, logging,
                                              .product(name: "GRDB", package: "GRDB.swift"),
                                              // `[metrics] listen`: GET /metrics on the stack `uniguard serve` uses.
                                              .product(name: "Hummingbird", package: "hummingbird"),
                                              .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                                              .product(name: "Metrics", package: "swift-metrics"),
                                              .product(name: "Prometheus", package: "swift-prometheus"),
                                              .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                path: "Sources/Coordinator", exclude: ["Main"]),
        .executableTarget(name: "CoordinatorMain", dependencies: ["Coordinator"], path: "Sources/Coordinator/Main"),
        .target(name: "Worker", dependencies: ["Runtime", "GuardData", "Guards", "Fusion", "Cluster", "Training", "Collectives", "DataParallel", "EncoderModel",
                                          "Synthesis", "CommandLineSupport", argumentParser, logging],
                path: "Sources/Worker", exclude: ["Main"]),
        .executableTarget(name: "WorkerMain", dependencies: ["Worker"], path: "Sources/Worker/Main"),
        // `uniguard serve`: HTTP router, dynamic batcher, OpenAI moderation codec and metrics over loaded guards.
        .target(name: "Serving",
                dependencies: ["Runtime", "GuardData", "Guards", logging,
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "Metrics", package: "swift-metrics"),
                               .product(name: "Prometheus", package: "swift-prometheus"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                               .product(name: "UnixSignals", package: "swift-service-lifecycle")],
                path: "Sources/Shared/Serving"),
        .executableTarget(
            name: "UniGuardCLI",
            dependencies: ["Runtime", "Tokenizers", "EncoderModel", "GuardData", "Guards", "Training", "Fusion", "Synthesis", "Collectives", "DataParallel", "CommandLineSupport", "Serving", argumentParser, logging],
            path: "Sources/UniGuardCLI"
        ),

        // Tests: one target per module, shared helpers, and integration tests that start real processes.
        .target(name: "TestHelpers", dependencies: ["Runtime", "Tokenizers", "EncoderModel", "Training"], path: "Tests/TestHelpers"),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "TestHelpers"], path: "Tests/RuntimeTests"),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestHelpers"], path: "Tests/TokenizersTests"),
        .testTarget(name: "EncoderModelTests", dependencies: ["EncoderModel", "Tokenizers", "Training", "TestHelpers"], path: "Tests/EncoderModelTests"),
        .testTarget(name: "GuardDataTests", dependencies: ["GuardData", "EncoderModel", "Tokenizers", "TestHelpers"], path: "Tests/GuardDataTests"),
        .testTarget(name: "GuardsTests", dependencies: ["Guards", "TestHelpers"], path: "Tests/GuardsTests"),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Guards", "GuardData", "EncoderModel", "Tokenizers", "TestHelpers"],
                    path: "Tests/TrainingTests"),
        .testTarget(name: "FusionTests", dependencies: ["Fusion", "Guards", "GuardData", "EncoderModel", "TestHelpers"], path: "Tests/FusionTests"),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Fusion", "Training", "GuardData", "Runtime", "TestHelpers"], path: "Tests/ClusterTests"),
        // A stand-in for an outside LLM service: the real chat-completions protocol over HTTP (Hummingbird), faults on demand.
        .target(name: "LLMStandIn", dependencies: [.product(name: "Hummingbird", package: "hummingbird"), logging], path: "Tests/LLMStandIn"),
        .executableTarget(name: "LLMStandInMain", dependencies: ["LLMStandIn", argumentParser], path: "Tests/LLMStandInMain"),
        .testTarget(name: "SynthesisTests", dependencies: ["Synthesis", "GuardData", "EncoderModel", "LLMStandIn", "TestHelpers"], path: "Tests/SynthesisTests"),
        .testTarget(name: "CollectivesTests", dependencies: ["Collectives", "Runtime"], path: "Tests/CollectivesTests"),
        .testTarget(name: "DataParallelTests", dependencies: ["DataParallel", "Training", "Collectives", "Guards", "GuardData", "EncoderModel", "Runtime", "TestHelpers"],
                    path: "Tests/DataParallelTests"),
        .testTarget(name: "CommandLineSupportTests", dependencies: ["CommandLineSupport", argumentParser],
                    path: "Tests/CommandLineSupportTests"),
        .testTarget(name: "CoordinatorTests", dependencies: ["Coordinator", "Cluster", "Training", "TestHelpers"], path: "Tests/CoordinatorTests"),
        .testTarget(name: "WorkerTests", dependencies: ["Worker", "Cluster", "Runtime", "TestHelpers"], path: "Tests/WorkerTests"),
        .testTarget(name: "ServingTests", dependencies: ["Serving", "Guards", "TestHelpers"], path: "Tests/ServingTests"),
        .testTarget(name: "IntegrationTests", dependencies: ["Runtime", "EncoderModel", "GuardData", "Guards", "Fusion", "Cluster", "TestHelpers", "LLMStandIn"],
                    path: "Tests/IntegrationTests"),
    ],
    cxxLanguageStandard: .cxx17
)
