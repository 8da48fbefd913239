// swift-tools-version:6.2
import PackageDescription

/// One settings array for every target: Swift 6 language mode plus the upcoming features we hold ourselves to.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

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
    ],
    targets: [
        // Vocabulary shared by every module: refids, clock, JSON values and configuration, domain events.
        .target(name: "SuiteCore", swiftSettings: swiftSettings),
        // The engine-neutral storage layer: `Database`, `SQL`, dialects, migrations.
        .target(
            name: "SuiteStorage",
            dependencies: ["SuiteCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Drivers are separate targets so an app on SQLite never compiles PostgresNIO.
        .target(
            name: "SuiteSQLite",
            dependencies: [
                "SuiteStorage", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SuitePostgres",
            dependencies: [
                "SuiteStorage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Client",
            dependencies: [
                "SuiteCore", "SuiteStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The double-entry ledger shared by Ally (reseller credits) and Wave (client funds).
        .target(
            name: "Wallet",
            dependencies: [
                "SuiteCore", "SuiteStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Ally",
            dependencies: ["SuiteCore", "SuiteStorage", "Wallet", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Licence keys: mint, activate, verify, revoke, renew; Ed25519-signed tokens for offline checks.
        .target(
            name: "Forge",
            dependencies: [
                "SuiteCore", "SuiteStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Billing: products, invoices, payment (client wallet first, else a checkout gateway), subscriptions.
        .target(
            name: "Wave",
            dependencies: [
                "SuiteCore", "SuiteStorage", "Wallet",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one composition root: builds each module once and hosts the workflows. It links the
        // embedded SQLite driver only; an app that wants PostgreSQL adds SuitePostgres and passes
        // `.postgres` in its drivers, so an app on SQLite alone never compiles PostgresNIO.
        .target(
            name: "Suite",
            dependencies: [
                "SuiteCore", "SuiteStorage", "SuiteSQLite", "Client", "Wallet", "Ally", "Forge", "Wave",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "dock",
            dependencies: [
                "Suite", "SuiteSQLite", "SuitePostgres", "Client", "Ally", "Wallet", "Forge", "Wave",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ResellerProvisioning",
            dependencies: ["Suite", "SuiteSQLite", "SuitePostgres", "Client", "Ally", "Forge", "Wave", "Wallet"],
            path: "Examples/ResellerProvisioning",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "StandalonePurchase",
            dependencies: ["Suite", "SuiteSQLite", "SuitePostgres", "Client", "Forge", "Wave"],
            path: "Examples/StandalonePurchase",
            swiftSettings: swiftSettings
        ),
        // SQLite alone: its build compiles no PostgresNIO (scripts/check-sqlite-only.sh checks the graph).
        .executableTarget(
            name: "ClientQuickstart",
            dependencies: ["Suite", "Client"],
            path: "Examples/ClientQuickstart",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ClientSuiteBenchmarks",
            dependencies: [
                "Suite", "Client", "Ally", "Wallet", "Forge", "SuiteSQLite", "SuitePostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/ClientSuiteBenchmarks",
            swiftSettings: swiftSettings
        ),

        // Test support: one fixture that hands every storage test both engines.
        .target(
            name: "SuiteTestSupport",
            dependencies: ["Suite", "SuiteSQLite", "SuitePostgres"],
            path: "Tests/SuiteTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SuiteStorageTests",
            dependencies: [
                "SuiteTestSupport", "SuiteStorage", "SuitePostgres", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ClientTests",
            dependencies: [
                "SuiteTestSupport", "Client",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WalletTests",
            dependencies: [
                "SuiteTestSupport", "Wallet", "SuiteSQLite", "SuiteStorage",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AllyTests",
            dependencies: ["SuiteTestSupport", "Ally", "Client"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ForgeTests",
            dependencies: [
                "SuiteTestSupport", "Forge", "Client", "Suite",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WaveTests",
            dependencies: [
                "SuiteTestSupport", "Wave", "Wallet", "Client",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DockTests",
            dependencies: [
                "dock", "SuiteTestSupport", "Suite", "Forge", "Client", "SuiteSQLite", "SuiteStorage",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "dock", "ResellerProvisioning", "StandalonePurchase", "ClientQuickstart",
                "SuiteTestSupport", "Suite", "Client", "Ally", "Wallet", "Forge", "Wave", "SuitePostgres", "SuiteStorage",
            ],
            path: "IntegrationTests",
            swiftSettings: swiftSettings
        ),
    ]
)
