import Foundation
internal import Logging
internal import NIOCore
internal import NIOPosix
internal import PostgresNIO
import Synchronization
import SuiteStorage

/// Why the pool cannot hand out a connection, found by opening one connection directly.
///
/// PostgresNIO's pool keeps retrying a connection it cannot make, with a growing back-off, and its
/// waiters learn nothing of the cause until a circuit breaker trips about a minute later. A single
/// connection attempt fails at once with the cause: refused, unresolvable, wrong password,
/// unknown database, TLS refused. Only one attempt runs at a time per database; callers that
/// arrive meanwhile share its answer.
final class ConnectionDiagnosis: Sendable {
    private let location: PostgresLocation
    private let logger: Logger
    private let running = Mutex<Task<StorageError?, Never>?>(nil)

    init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
    }

    /// Nil when a connection can be made now; otherwise the reason it cannot, as a storage error.
    func run(timeout: Duration) async -> StorageError? {
        let task = running.withLock { current -> Task<StorageError?, Never> in
            if let current { return current }
            let location = location, logger = logger
            let task = Task { await Self.probe(location, timeout: timeout, logger: logger) }
            current = task
            return task
        }
        let result = await task.value
        running.withLock { current in if current == task { current = nil } }
        return result
    }

    private static func probe(_ location: PostgresLocation, timeout: Duration, logger: Logger) async -> StorageError? {
        do {
            let configuration = try location.connectionConfiguration(timeout: timeout)
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
            return nil
        } catch {
            return explain(error, location: location)
        }
    }

    /// A one-line reason that names the server and the cause, never the password.
    static func explain(_ error: any Error, location: PostgresLocation) -> StorageError {
        let server = location.server
        let underlying = String(reflecting: error)
        guard let error = error as? PSQLError else {
            return StorageError(code: .unavailable, message: "cannot connect to PostgreSQL at \(server)", underlying: underlying)
        }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            switch state {
            case "28P01":
                return StorageError(code: .authentication,
                                    message: "PostgreSQL at \(server) refused the password for user \"\(location.user)\"",
                                    underlying: underlying)
            case "28000":
                return StorageError(code: .authentication,
                                    message: "PostgreSQL at \(server) refused user \"\(location.user)\" (no such role, or not allowed to connect)",
                                    underlying: underlying)
            case "3D000":
                return StorageError(code: .invalidLocation,
                                    message: "database \"\(location.database ?? location.user)\" does not exist on PostgreSQL at \(server)",
                                    underlying: underlying)
            case "53300":
                return StorageError(code: .busy, message: "PostgreSQL at \(server) has no connection slots free", underlying: underlying)
            case "57P03":
                return StorageError(code: .unavailable, message: "PostgreSQL at \(server) is starting up or shutting down",
                                    underlying: underlying)
            default:
                return StorageError(code: .unavailable, message: "PostgreSQL at \(server) refused the connection (SQLSTATE \(state))",
                                    underlying: underlying)
            }
        case .sslUnsupported:
            return StorageError(code: .unavailable,
                                message: "PostgreSQL at \(server) does not accept TLS, which sslmode=require asks for",
                                underlying: underlying)
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
            return StorageError(code: .authentication,
                                message: "cannot authenticate user \"\(location.user)\" with PostgreSQL at \(server) (is a password needed?)",
                                underlying: underlying)
        case .serverClosedConnection, .uncleanShutdown:
            return StorageError(code: .unavailable,
                                message: "the server at \(server) closed the connection before PostgreSQL's start-up finished (is it PostgreSQL?)",
                                underlying: underlying)
        case .connectionError:
            return explainNetwork(error.underlying, location: location, underlying: underlying)
        default:
            return StorageError(code: .unavailable, message: "cannot connect to PostgreSQL at \(server)", underlying: underlying)
        }
    }

    private static func explainNetwork(_ error: (any Error)?, location: PostgresLocation,
                                       underlying: String) -> StorageError {
        let server = location.server
        if let error = error as? NIOConnectionError {
            if error.connectionErrors.isEmpty, error.dnsAError != nil || error.dnsAAAAError != nil {
                return StorageError(code: .unavailable, message: "cannot resolve the host \"\(location.host)\" of PostgreSQL at \(server)",
                                    underlying: underlying)
            }
            if let failure = error.connectionErrors.lazy.compactMap({ $0.error as? IOError }).first {
                return explain(failure, server: server, underlying: underlying)
            }
            if error.connectionErrors.contains(where: { if case .connectTimeout? = $0.error as? ChannelError { true } else { false } }) {
                return StorageError(code: .unavailable, message: "cannot reach PostgreSQL at \(server) within \(seconds(location.connectTimeout))",
                                    underlying: underlying)
            }
        }
        if let error = error as? IOError {
            return explain(error, server: server, underlying: underlying)
        }
        if case .connectTimeout? = error as? ChannelError {
            return StorageError(code: .unavailable, message: "cannot reach PostgreSQL at \(server) within \(seconds(location.connectTimeout))",
                                underlying: underlying)
        }
        return StorageError(code: .unavailable, message: "cannot connect to PostgreSQL at \(server)", underlying: underlying)
    }

    private static func explain(_ error: IOError, server: String, underlying: String) -> StorageError {
        if error.errnoCode == ECONNREFUSED {
            return StorageError(code: .unavailable, message: "nothing accepts connections at \(server) (connection refused): is PostgreSQL running?",
                                underlying: underlying)
        }
        return StorageError(code: .unavailable, message: "cannot reach PostgreSQL at \(server): \(String(cString: strerror(error.errnoCode)).lowercased())",
                            underlying: underlying)
    }

    /// A duration as "5 s" or "0.5 s".
    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
