// swift-tools-version:6.2
import PackageDescription

/// One settings array for every target: Swift 6 language mode plus the upcoming features we hold ourselves to.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The packages' products the targets name more than once.
extension Target.Dependency {
    static let logging: Self = .product(name: "Logging", package: "swift-log")
    static let crypto: Self = .product(name: "Crypto", package: "swift-crypto")
    static let lifecycle: Self = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
    static let propertyBased: Self = .product(name: "PropertyBased", package: "swift-property-based")
    static let hummingbird: Self = .product(name: "Hummingbird", package: "hummingbird")
    static let metrics: Self = .product(name: "Metrics", package: "swift-metrics")
    static let prometheus: Self = .product(name: "Prometheus", package: "swift-prometheus")
    static let asyncHTTPClient: Self = .product(name: "AsyncHTTPClient", package: "async-http-client")
}

/// A library module of the suite.
func module(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .target(name: name, dependencies: dependencies, swiftSettings: swiftSettings)
}

/// An executable: the CLI, an example (`path`, its README excluded) or the benchmark.
func program(_ name: String, path: String? = nil, exclude: [String] = [], _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: dependencies, path: path, exclude: exclude, swiftSettings: swiftSettings)
}

/// A test target.
func tests(_ name: String, path: String? = nil, _ dependencies: [Target.Dependency]) -> Target {
    .testTarget(name: name, dependencies: dependencies, path: path, swiftSettings: swiftSettings)
}

let package = Package(
    name: "ClientSuite",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SuiteCore", targets: ["SuiteCore"]),
        .library(name: "SuiteStorage", targets: ["SuiteStorage"]),
        .library(name: "SuiteSQLite", targets: ["SuiteSQLite"]),
        .library(name: "SuitePostgres", targets: ["SuitePostgres"]),
        .library(name: "Client", targets: ["Client"]),
        .library(name: "Wallet", targets: ["Wallet"]),
        .library(name: "Ally", targets: ["Ally"]),
        .library(name: "Forge", targets: ["Forge"]),
        .library(name: "Wave", targets: ["Wave"]),
        .library(name: "Suite", targets: ["Suite"]),
        .library(name: "SuiteHTTP", targets: ["SuiteHTTP"]),
        .executable(name: "dock", targets: ["dock"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Vocabulary shared by every module: refids, clock, JSON values and configuration, domain events.
        .target(name: "SuiteCore", swiftSettings: swiftSettings),
        // The engine-neutral storage layer: `Database`, `SQL`, dialects, migrations.
        module("SuiteStorage", ["SuiteCore", .logging, .lifecycle]),
        // Drivers are separate targets so an app on SQLite never compiles PostgresNIO.
        module("SuiteSQLite", [
            "SuiteStorage", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        module("SuitePostgres", [
            "SuiteStorage", .logging, .lifecycle, .metrics,
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        module("Client", [
            "SuiteCore", "SuiteStorage", .crypto, .logging,
            .product(name: "Configuration", package: "swift-configuration"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // The double-entry ledger shared by Ally (reseller credits) and Wave (client funds).
        module("Wallet", ["SuiteCore", "SuiteStorage", .crypto, .logging, .lifecycle]),
        module("Ally", ["SuiteCore", "SuiteStorage", "Wallet", .logging]),
        // Licence keys: mint, activate, verify, revoke, renew; Ed25519-signed tokens for offline checks.
        module("Forge", ["SuiteCore", "SuiteStorage", .crypto, .logging, .lifecycle]),
        // Billing: products, invoices, payment (client wallet first, else a checkout gateway), subscriptions.
        module("Wave", ["SuiteCore", "SuiteStorage", "Wallet", .crypto, .logging, .lifecycle]),
        // The one composition root: builds each module once and hosts the workflows. It links the
        // embedded SQLite driver only; an app that wants PostgreSQL adds SuitePostgres and passes
        // `.postgres` in its drivers, so an app on SQLite alone never compiles PostgresNIO.
        module("Suite", ["SuiteCore", "SuiteStorage", "SuiteSQLite", "Client", "Wallet", "Ally", "Forge", "Wave", .logging]),
        // ClientSuite over HTTP: Hummingbird route collections, one per module, mountable alone;
        // openapi.yaml, served at /openapi.yaml, is the contract that SuiteHTTPTests hold the routes to.
        .target(
            name: "SuiteHTTP",
            dependencies: [
                "Suite", "SuiteCore", "SuiteStorage", "Client", "Forge", "Ally", "Wallet", "Wave", .hummingbird, .logging, .lifecycle, .crypto,
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"), .metrics, .prometheus, .asyncHTTPClient,
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        program("dock", [
            "Suite", "SuiteSQLite", "SuitePostgres", "SuiteHTTP", "Client", "Ally", "Wallet", "Forge", "Wave", .logging, .lifecycle,
            .metrics, .prometheus,
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        program("ResellerProvisioning", path: "Examples/ResellerProvisioning",
                ["Suite", "SuiteSQLite", "SuitePostgres", "Client", "Ally", "Forge", "Wave", "Wallet"]),
        program("StandalonePurchase", path: "Examples/StandalonePurchase",
                ["Suite", "SuiteSQLite", "SuitePostgres", "Client", "Forge", "Wave"]),
        // SQLite alone: its build compiles no PostgresNIO (scripts/check-sqlite-only.sh checks the graph).
        program("ClientQuickstart", path: "Examples/ClientQuickstart", ["Suite", "Client"]),
        // An app in the field: checks its licence against `dock serve`, offline from its signed token when the server is away.
        program("LicenceCheck", path: "Examples/LicenceCheck", exclude: ["README.md"], [
            "Forge", "SuiteCore", .asyncHTTPClient, .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        program("ClientSuiteBenchmarks", path: "Benchmarks/ClientSuiteBenchmarks", [
            "Suite", "Client", "Ally", "Wallet", "Forge", "Wave", "SuiteSQLite", "SuitePostgres", "SuiteHTTP", .hummingbird, .crypto,
            .logging, .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),

        // Test support: one fixture that hands every storage test both engines.
        .target(
            name: "SuiteTestSupport",
            dependencies: ["Suite", "SuiteSQLite", "SuitePostgres", .logging],
            path: "Tests/SuiteTestSupport",
            swiftSettings: swiftSettings
        ),
        tests("SuiteStorageTests", [
            "SuiteTestSupport", "SuiteStorage", "SuiteSQLite", "SuitePostgres", .crypto, .lifecycle, .logging, .propertyBased,
        ]),
        tests("ClientTests", ["SuiteTestSupport", "Client", .propertyBased]),
        tests("WalletTests", ["SuiteTestSupport", "Wallet", "SuiteSQLite", "SuiteStorage", .lifecycle]),
        tests("AllyTests", ["SuiteTestSupport", "Ally", "Client"]),
        tests("ForgeTests", ["SuiteTestSupport", "Forge", "Client", "Suite", .lifecycle, .crypto]),
        tests("WaveTests", ["SuiteTestSupport", "Wave", "Wallet", "Client", .lifecycle]),
        tests("DockTests", [
            "dock", "SuiteTestSupport", "Suite", "Forge", "Client", "SuiteSQLite", "SuiteStorage", .propertyBased, .crypto,
        ]),
        tests("SuiteHTTPTests", [
            "SuiteHTTP", "SuiteTestSupport", "Suite", "Client", "Ally", "Forge", "Wave", "SuiteCore", "SuiteStorage", .hummingbird,
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "Yams", package: "Yams"), .logging,
            .metrics, .prometheus,
        ]),
        tests("IntegrationTests", path: "IntegrationTests", [
            "dock", "ResellerProvisioning", "StandalonePurchase", "ClientQuickstart", "LicenceCheck", "SuiteHTTP",
            "SuiteTestSupport", "Suite", "Client", "Ally", "Wallet", "Forge", "Wave", "SuitePostgres", "SuiteStorage",
        ]),
    ]
)
