import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Suite
import SuiteHTTP
import SuiteStorage
import UnixSignals

/// `dock serve`: the suite's HTTP API (see SuiteHTTP), under ServiceLifecycle.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API until SIGTERM or SIGINT, which let requests in flight finish and close the database.")
    @OptionGroup var database: DatabaseOptions
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one).") var port = 8080
    @Option(help: "The signing key file from `dock forge keygen`: licence tokens are signed with it and its public key is served.")
    var signingKey: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
    }

    func run() async throws {
        try await runReporting {
            var logger = Logger(label: "clientsuite.http")
            logger.logLevel = .info
            let signing = try signingKey.map(readSigningKey)
            // Before the database opens, so that its pool reports to the registry /metrics reads.
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            let suite = try await database.openSuite()
            do {
                try await HTTPTables.install(on: suite.database)
                let app = try SuiteAPI(suite: suite, logger: logger, metrics: registry, signing: signing).application(host: host, port: port) { [host] port in
                    // Written at once, not through print's buffer: whoever started the server waits for this line.
                    FileHandle.standardOutput.write(Data("ClientSuite listening on http://\(host):\(port) (API under /v1, contract at /openapi.yaml)\n".utf8))
                }
                // The database is listed first, so that it is the last to stop: after the server has
                // finished the requests in flight. A database that is not a service is closed after.
                var services: [any Service] = []
                if let service = suite.database as? any Service { services.append(service) }
                services.append(app)
                let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            } catch {
                try? await suite.close()
                throw error
            }
            try await suite.close()
            print("ClientSuite stopped")
        }
    }
}
