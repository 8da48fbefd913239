import Foundation
internal import NIOSSL
internal import PostgresNIO
import SuiteStorage

/// A parsed `postgres://` URL.
struct PostgresLocation: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String?
    var tls: TLSMode
    var searchPath: String?
    var poolSize: Int
    var minimumConnections: Int
    /// Seconds between keep-alive checks of an idle connection; nil: none.
    var keepAliveSeconds: Int64?
    /// How long opening a connection, or waiting for a pooled one, may take before it fails.
    var connectTimeout: Duration
    /// Statements prepared per connection at most; 0: none.
    var statementCache: Int

    /// `sslmode`, as the two kinds of configuration PostgresNIO has (pool and single connection) need it.
    enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    /// `host:port`, as error messages name the server (never the user's password).
    var server: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The pool's TLS setting.
    var clientTLS: PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    /// A single connection's configuration, for diagnosing why the pool cannot connect.
    func connectionConfiguration(timeout: Duration) throws -> PostgresConnection.Configuration {
        let connectionTLS: PostgresConnection.Configuration.TLS
        switch tls {
        case .disable: connectionTLS = .disable
        case .prefer: connectionTLS = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: connectionTLS = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password,
                                                             database: database, tls: connectionTLS)
        configuration.options.connectTimeout = .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
                                                            + timeout.components.attoseconds / 1_000_000_000)
        return configuration
    }

    static let knownOptions = ["sslmode", "search_path", "pool", "min", "keepalive", "connect_timeout", "statement_cache"]

    init(url: String) throws {
        guard let components = URLComponents(string: url),
              components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, !host.isEmpty
        else {
            throw StorageError(code: .invalidLocation,
                               message: "not a PostgreSQL URL (expected postgres://user@host:port/database)")
        }
        self.host = host
        port = components.port ?? 5432
        user = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        password = components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        database = path.isEmpty ? nil : path
        let options = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        if let unknown = options.keys.sorted().first(where: { !Self.knownOptions.contains($0) }) {
            throw StorageError(code: .invalidLocation,
                               message: "unknown PostgreSQL URL option \"\(unknown.prefix(40))\" (known: \(Self.knownOptions.joined(separator: ", ")))")
        }
        switch options["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case "require", "verify-full", "verify-ca": tls = .require
        case "prefer", "allow": tls = .prefer
        case let other:
            throw StorageError(code: .invalidLocation,
                               message: "unknown sslmode \"\(other.prefix(40))\" (use disable, allow, prefer, require, verify-ca or verify-full)")
        }
        searchPath = options["search_path"]
        poolSize = Int(options["pool"] ?? "8") ?? 0
        guard (1...256).contains(poolSize) else {
            throw StorageError(code: .invalidLocation, message: "pool must be between 1 and 256 connections")
        }
        minimumConnections = Int(options["min"] ?? "0") ?? -1
        guard (0...poolSize).contains(minimumConnections) else {
            throw StorageError(code: .invalidLocation, message: "min must be between 0 and pool (\(poolSize)) connections")
        }
        let keepAlive = Int64(options["keepalive"] ?? "30") ?? -1
        guard (0...86_400).contains(keepAlive) else {
            throw StorageError(code: .invalidLocation, message: "keepalive must be between 0 (off) and 86400 seconds")
        }
        keepAliveSeconds = keepAlive == 0 ? nil : keepAlive
        let timeout = Double(options["connect_timeout"] ?? "5") ?? -1
        guard timeout > 0, timeout <= 600 else {
            throw StorageError(code: .invalidLocation, message: "connect_timeout must be more than 0 and at most 600 seconds")
        }
        connectTimeout = .milliseconds(Int64((timeout * 1_000).rounded()))
        statementCache = Int(options["statement_cache"] ?? "512") ?? -1
        guard (0...10_000).contains(statementCache) else {
            throw StorageError(code: .invalidLocation, message: "statement_cache must be between 0 (off) and 10000 statements")
        }
    }
}
